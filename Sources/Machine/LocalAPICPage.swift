import Devices
import Memory
import PCEmuSupport

/// The local APIC's register page in the physical address space, moved or
/// removed as IA32_APIC_BASE says (the address space tells the CPU).
enum LocalAPICPage {
    static func map(_ apic: LocalAPIC, in addressSpace: AddressSpace) throws {
        var region: Int? = try addressSpace.map("local-apic", at: UInt64(apic.pageBase), size: LocalAPIC.pageSize, kind: .mmio(apic))
        apic.baseChanged = { [unowned apic, unowned addressSpace] _, new in
            if let old = region { addressSpace.unmap(old) }
            region = nil
            if let new {
                do {
                    region = try addressSpace.map("local-apic", at: UInt64(new), size: LocalAPIC.pageSize, kind: .mmio(apic))
                } catch {
                    Log.write(.guestErrors, "local apic: cannot move its page to 0x\(String(new, radix: 16)): \(error)")
                }
            }
        }
    }
}
