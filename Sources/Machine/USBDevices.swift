import Configuration
import CPURuntime
import Devices
import Memory
import PCEmuSupport
import Timing

/// The USB controllers and the devices on their root ports, as the command
/// line asks: `-usb` puts the PIIX3's UHCI at 01.2, each
/// `-device piix3-usb-uhci` adds one in the first free slot from 3 up, and
/// `-device usb-tablet|usb-mouse|usb-kbd` take the free root ports in order.
/// A USB device with no controller given gets `-usb`'s: QEMU refuses that
/// line for want of a bus, so no QEMU command line changes meaning, and the
/// PC's own chipset has that controller anyway.
final class USBDevices {
    static let controllerKind = "piix3-usb-uhci"
    static let deviceKinds: Set<String> = ["usb-tablet", "usb-mouse", "usb-kbd"]
    static let firstFreeSlot = 3

    private(set) var controllers: [UHCI] = []
    private(set) var tablets: [USBTablet] = []
    private(set) var mice: [USBMouse] = []
    private(set) var keyboards: [USBKeyboard] = []

    /// The keyboard that takes the window's keys from the PS/2 one: as in
    /// QEMU, the last USB keyboard given, from power-on.
    var hostKeyboard: USBKeyboard? { keyboards.last }

    /// The mouse that takes the window's relative motion and buttons from the
    /// PS/2 one: as in QEMU, a USB mouse once the guest polls it (the last
    /// such), so a guest without a USB driver keeps its PS/2 mouse.
    var relativePointer: USBMouse? { mice.last { $0.polled } }

    init(configuration: MachineConfiguration, chipset: Chipset, ports: IOPortBus, addressSpace: AddressSpace,
         cpu: X86CPU, loop: CPUThreadLoop, clock: VirtualClock, scheduler: EventScheduler) throws {
        let devices = configuration.devices.filter { USBDevices.deviceKinds.contains($0.kind) }
        let extraControllers = configuration.devices.filter { $0.kind == USBDevices.controllerKind }.count
        let piixController = configuration.usb || (extraControllers == 0 && !devices.isEmpty)
        func makeController() throws -> UHCI {
            let controller = UHCI(memory: addressSpace, memoryWritten: { [unowned cpu] address, length in
                cpu.physicalMemoryWritten(at: address, length: length)
            }, clock: clock, scheduler: scheduler)
            let registers = controller.registers
            controller.portsMoved = { [unowned ports] old, new in
                if let old { ports.detach(base: old, count: UHCI.ioBytes) }
                if let new {
                    do { try ports.attach(registers, name: "uhci", base: new, count: UHCI.ioBytes) } catch {
                        Log.write(.guestErrors, "uhci: BAR4 at 0x\(String(new, radix: 16)) collides: \(error)")
                    }
                }
            }
            loop.add(controller.idleTimer)
            controllers.append(controller)
            return controller
        }
        if piixController {
            try chipset.pciBus.plug(try makeController(), slot: PIIX3.slot, function: UHCI.function)
        }
        for _ in 0..<extraControllers {
            guard let slot = (USBDevices.firstFreeSlot..<PCIBus.slotCount).first(where: { chipset.pciBus.device(slot: $0) == nil }) else {
                throw EmulatorError.badOption("-device", "\(USBDevices.controllerKind): no free PCI slot")
            }
            try chipset.pciBus.plug(try makeController(), slot: slot)
        }

        var nextPort = 0
        for component in devices {
            let controllerIndex = nextPort / UHCI.portCount
            guard controllerIndex < controllers.count else {
                throw EmulatorError.badOption(component.option,
                    "\(component.kind): no free USB port (a UHCI controller has \(UHCI.portCount); add -device \(USBDevices.controllerKind))")
            }
            let device: USBDevice
            switch component.kind {
            case "usb-tablet":
                let tablet = USBTablet()
                tablets.append(tablet)
                device = tablet
            case "usb-mouse":
                let mouse = USBMouse()
                mice.append(mouse)
                device = mouse
            default:
                let keyboard = USBKeyboard()
                keyboards.append(keyboard)
                device = keyboard
            }
            controllers[controllerIndex].attach(device, port: nextPort % UHCI.portCount)
            Log.write(.device, "usb: \(component.kind) on controller \(controllerIndex) port \(nextPort % UHCI.portCount + 1)")
            nextPort += 1
        }
    }
}
