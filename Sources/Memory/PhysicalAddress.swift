/// An address on the guest's physical bus (after paging and the A20 gate).
/// 64 bits wide; the address space ends at `AddressSpace.physicalLimit`
/// (36 bits), and everything past its end, as in its holes, reads as
/// nothing.
public typealias PhysicalAddress = UInt64
