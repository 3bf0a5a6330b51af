import XCTest
@testable import IR

final class DeadStateStoresTests: XCTestCase {
    private let pass: [any IRPass] = [DeadStateStores()]

    func testAStoreOverwrittenUnseenGoes() {
        // Both u16 stores before the last go; the u32 one, another width, stays.
        assertOptimized(pass, """
            add_i32 eax, eax, ecx
            st_state_i32 ecx, u32 @64
            st_state_i32 edx, u16 @64
            exit_tb $0
            """) { f, b in
            b.storeState(f.eax, offset: 64, .u16)
            b.binary(.add, into: f.eax, f.eax, f.ecx)
            b.storeState(f.eax, offset: 64, .u16)
            b.storeState(f.ecx, offset: 64, .u32)
            b.storeState(f.edx, offset: 64, .u16)
            b.exitBlock(0)
        }
    }

    func testAStoreSomethingMayReadStays() {
        assertOptimized(pass, """
            st_state_i32 eax, u32 @64
            ld_state_i32 t8, u32 @68
            st_state_i32 ecx, u32 @64
            st_state_i32 edx, u32 @72
            ld_guest_i32 t9, ecx, u32 mmu0
            st_state_i32 t9, u32 @72
            st_state_i32 edx, u32 @80
            call helper_state
            st_state_i32 t8, u32 @80
            exit_tb $0
            """) { f, b in
            b.storeState(f.eax, offset: 64, .u32)
            let x = b.loadState(offset: 68, .u32)
            b.storeState(f.ecx, offset: 64, .u32)
            b.storeState(f.edx, offset: 72, .u32)
            let y = b.loadGuest(f.ecx, .u32, mmu: 0)
            b.storeState(y, offset: 72, .u32)
            b.storeState(f.edx, offset: 80, .u32)
            b.call(f.helperState)
            b.storeState(x, offset: 80, .u32)
            b.exitBlock(0)
        }
    }
}
