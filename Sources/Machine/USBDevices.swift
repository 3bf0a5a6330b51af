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
/// PC's own chipset has that controller anyway. `-device qemu-xhci[,id=X]`
/// adds an xHCI controller in the next free slot; a device with `bus=X.0`
/// goes on controller X, one without `bus=` on the last xHCI controller
/// when there is one (as QEMU picks the newest bus), else on the UHCI ports.
final class USBDevices {
    static let controllerKind = "piix3-usb-uhci"
    static let xhciKind = "qemu-xhci"
    static let deviceKinds: Set<String> = ["usb-tablet", "usb-mouse", "usb-kbd"]
    static let firstFreeSlot = 3

    private(set) var controllers: [UHCI] = []
    private(set) var xhciControllers: [XHCI] = []
    /// The MMIO region of each xHCI controller's BAR 0, while mapped.
    private var xhciRegions: [Int?] = []
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
        let xhciOptions = configuration.devices.filter { $0.kind == USBDevices.xhciKind }
        let piixController = configuration.usb || (extraControllers == 0 && xhciOptions.isEmpty && !devices.isEmpty)
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

        for option in xhciOptions {
            guard let slot = (USBDevices.firstFreeSlot..<PCIBus.slotCount).first(where: { chipset.pciBus.device(slot: $0) == nil }) else {
                throw EmulatorError.badOption("-device", "\(USBDevices.xhciKind): no free PCI slot")
            }
            let controller = makeXHCI(addressSpace: addressSpace, cpu: cpu, clock: clock, scheduler: scheduler)
            controller.sendMSI = { [unowned chipset] address, data in
                guard let msi = MSIMessage(address: address, data: data) else {
                    return Log.write(.guestErrors, "qemu-xhci: MSI to 0x\(String(address, radix: 16)) data 0x\(String(data, radix: 16)) dropped")
                }
                chipset.apicBus.send(msi.message, destination: msi.destination, logical: msi.logical)
            }
            try chipset.pciBus.plug(controller, slot: slot)
            Log.write(.device, "usb: \(USBDevices.xhciKind)\(option.value("id").map { " \($0)" } ?? "") in slot \(slot)")
        }
        /// The next free USB 2 port on each xHCI controller.
        var xhciNextPort = [Int](repeating: 0, count: xhciControllers.count)

        var nextPort = 0
        for component in devices {
            let device = USBDevices.makeDevice(component.kind)
            remember(device)
            // On an xHCI controller: the one bus= names, or the last.
            var xhciIndex: Int? = xhciControllers.isEmpty ? nil : xhciControllers.count - 1
            if let bus = component.value("bus"), bus == "usb-bus.0" {
                // QEMU's name for -usb's bus: the UHCI ports.
                xhciIndex = nil
            } else if let bus = component.value("bus") {
                guard bus.hasSuffix(".0"), let index = xhciOptions.firstIndex(where: { $0.value("id") == String(bus.dropLast(2)) }) else {
                    throw EmulatorError.badOption(component.option, "\(component.kind): no USB bus '\(bus)' (give a qemu-xhci's id followed by .0)")
                }
                xhciIndex = index
            }
            if let index = xhciIndex {
                guard xhciNextPort[index] < XHCI.usb2Ports else {
                    throw EmulatorError.badOption(component.option,
                        "\(component.kind): no free USB 2 port (a qemu-xhci has \(XHCI.usb2Ports))")
                }
                xhciControllers[index].attach(device, port: xhciNextPort[index])
                Log.write(.device, "usb: \(component.kind) on xhci \(index) port \(xhciNextPort[index] + 1)")
                xhciNextPort[index] += 1
                continue
            }
            let controllerIndex = nextPort / UHCI.portCount
            guard controllerIndex < controllers.count else {
                throw EmulatorError.badOption(component.option,
                    "\(component.kind): no free USB port (a UHCI controller has \(UHCI.portCount); add -device \(USBDevices.controllerKind))")
            }
            controllers[controllerIndex].attach(device, port: nextPort % UHCI.portCount)
            Log.write(.device, "usb: \(component.kind) on controller \(controllerIndex) port \(nextPort % UHCI.portCount + 1)")
            nextPort += 1
        }
    }

    static func makeDevice(_ kind: String) -> USBDevice {
        switch kind {
        case "usb-tablet": return USBTablet()
        case "usb-mouse": return USBMouse()
        default: return USBKeyboard()
        }
    }

    private func remember(_ device: USBDevice) {
        if let tablet = device as? USBTablet { tablets.append(tablet) }
        if let mouse = device as? USBMouse { mice.append(mouse) }
        if let keyboard = device as? USBKeyboard { keyboards.append(keyboard) }
    }

    private func makeXHCI(addressSpace: AddressSpace, cpu: X86CPU, clock: VirtualClock, scheduler: EventScheduler) -> XHCI {
        let controller = XHCI(memory: addressSpace, memoryWritten: { [unowned cpu] address, length in
            cpu.physicalMemoryWritten(at: address, length: length)
        }, clock: clock, scheduler: scheduler)
        let index = xhciControllers.count
        xhciControllers.append(controller)
        xhciRegions.append(nil)
        controller.registersMoved = { [unowned self, unowned controller, unowned addressSpace] _, new in
            if let old = self.xhciRegions[index] { addressSpace.unmap(old) }
            self.xhciRegions[index] = nil
            guard let new else { return }
            do {
                self.xhciRegions[index] = try addressSpace.map("qemu-xhci", at: UInt64(new), size: UInt64(XHCI.registerBytes),
                                                               kind: .mmio(controller.registerWindow))
            } catch {
                Log.write(.guestErrors, "qemu-xhci: BAR0 at 0x\(String(new, radix: 16)) not mapped: \(error)")
            }
        }
        return controller
    }
}
