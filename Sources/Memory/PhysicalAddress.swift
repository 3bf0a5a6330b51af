/// An address on the guest's physical bus (after paging and the A20 gate).
/// 64 bits wide; the address space itself still ends at 4 GiB
/// (`AddressSpace.addressLimit`), and everything past its end reads as
/// nothing.
public typealias PhysicalAddress = UInt64
