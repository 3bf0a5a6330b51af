import Configuration
import CPURuntime
import Devices
import Foundation
import Memory
import Network
import PCEmuSupport
import Timing

/// The machine's network cards, each with its own user-mode network, as
/// the command line asks: `-nic user,model=ne2k_pci|ne2k_isa|e1000,...`, or
/// `-netdev user,id=ID,...` with `-device ne2k_pci|ne2k_isa|e1000,netdev=ID`;
/// `-nic none` for none. With no network option at all the machine gets
/// one ne2k_pci on user networking, as QEMU gives its PC a default NIC: a
/// guest expecting a network finds one, and a guest without its driver
/// never sees more than a PCI function it leaves alone.
final class NetworkCards {
    /// Where the PCI cards go: slot 2 is left to a display adapter, as QEMU does.
    static let firstPCISlot = 3
    /// QEMU's first MAC address; each further card adds one.
    static let baseMAC: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]

    enum Model: String { case pci = "ne2k_pci", isa = "ne2k_isa", e1000 = "e1000" }

    /// One card as configured: its model, placement and network.
    struct Plan {
        var model: Model
        var mac: [UInt8]
        var isaBase: UInt16 = NE2000ISA.defaultBase
        var isaIRQ: Int = NE2000ISA.defaultIRQ
        var network: UserNetworkConfiguration
    }

    private(set) var pciCards: [NE2000PCI] = []
    private(set) var isaCards: [NE2000ISA] = []
    private(set) var e1000Cards: [E1000] = []
    /// Each e1000's register BAR, where it is mapped.
    private var e1000Regions: [Int?] = []
    private var links: [NetworkLink] = []
    /// What the monitor's `info network` says of each card and its back end.
    private(set) var descriptions: [String] = []

    init(configuration: MachineConfiguration, chipset: Chipset, ports: IOPortBus, loop: CPUThreadLoop,
         addressSpace: AddressSpace, cpu: X86CPU, clock: VirtualClock, scheduler: EventScheduler) throws {
        let plans = try NetworkCards.plans(for: configuration)
        for (index, plan) in plans.enumerated() {
            let mac = plan.mac.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            let forwards = plan.network.forwards.isEmpty ? "" : ",hostfwd=\(plan.network.forwards.count)"
            descriptions.append("\(plan.model.rawValue).\(index): index=\(index),type=nic,model=\(plan.model.rawValue),"
                                + "macaddr=\(mac.joined(separator: ":"))\n \\ user.\(index): index=\(index),type=user,net=10.0.2.0\(forwards)")
            let chip: EthernetController
            switch plan.model {
            case .pci:
                let card = NE2000PCI(macAddress: plan.mac)
                let cardPorts = card.ports
                card.portsMoved = { [unowned ports] old, new in
                    if let old { ports.detach(base: old, count: NE2000Ports.count) }
                    if let new {
                        do { try ports.attach(cardPorts, name: "ne2k_pci", base: new, count: NE2000Ports.count) } catch {
                            Log.write(.guestErrors, "ne2k_pci: BAR0 at 0x\(String(new, radix: 16)) collides: \(error)")
                        }
                    }
                }
                try chipset.pciBus.plug(card, slot: nextPCISlot)
                pciCards.append(card)
                chip = card.chip
            case .e1000:
                let card = E1000(macAddress: plan.mac, memory: addressSpace,
                                 memoryWritten: { [unowned cpu] address, length in cpu.physicalMemoryWritten(at: address, length: length) },
                                 clock: clock, scheduler: scheduler)
                let slot = e1000Cards.count
                e1000Regions.append(nil)
                card.registersMoved = { [unowned self, unowned card, unowned addressSpace] _, new in
                    if let old = self.e1000Regions[slot] { addressSpace.unmap(old) }
                    self.e1000Regions[slot] = nil
                    if let new {
                        do {
                            self.e1000Regions[slot] = try addressSpace.map("e1000", at: UInt64(new), size: UInt64(E1000.registerBytes),
                                                                           kind: .mmio(card.registerWindow))
                        } catch {
                            Log.write(.guestErrors, "e1000: BAR0 at 0x\(String(new, radix: 16)) not mapped: \(error)")
                        }
                    }
                }
                let window = card.ioWindow
                card.ioMoved = { [unowned ports] old, new in
                    if let old { ports.detach(base: old, count: Int(E1000.ioWindowBytes)) }
                    if let new {
                        do { try ports.attach(window, name: "e1000", base: new, count: Int(E1000.ioWindowBytes)) } catch {
                            Log.write(.guestErrors, "e1000: BAR1 at 0x\(String(new, radix: 16)) collides: \(error)")
                        }
                    }
                }
                try chipset.pciBus.plug(card, slot: nextPCISlot)
                e1000Cards.append(card)
                chip = card
            case .isa:
                let card = NE2000ISA(macAddress: plan.mac, base: plan.isaBase, irq: chipset.irqs.line(plan.isaIRQ))
                try card.attach(to: ports)
                isaCards.append(card)
                chip = card.chip
            }
            let link = NetworkLink(chip: chip, loop: loop)
            let network = try SlirpNetwork(configuration: plan.network) { [unowned link] frame in link.receiveFromNetwork(frame) }
            link.network = network
            links.append(link)
            Log.write(.device, "network card \(index): \(plan.model.rawValue) on user networking")
        }
    }

    /// PCI cards of both kinds take the slots from `firstPCISlot` on, in order.
    private var nextPCISlot: Int { NetworkCards.firstPCISlot + pciCards.count + e1000Cards.count }

    /// Starts the networks' threads; call just before running.
    func start() {
        for link in links { link.network?.start() }
    }

    // MARK: What the command line asks for

    static func plans(for configuration: MachineConfiguration) throws -> [Plan] {
        var plans: [Plan] = []
        var nextMAC = 0
        func mac(_ component: MachineConfiguration.Component) throws -> [UInt8] {
            defer { nextMAC += 1 }
            guard let text = component.value("mac") else {
                var address = baseMAC
                address[5] &+= UInt8(truncatingIfNeeded: nextMAC)
                return address
            }
            let bytes = text.split(separator: ":").compactMap { UInt8($0, radix: 16) }
            guard bytes.count == 6, text.split(separator: ":").count == 6, bytes[0] & 1 == 0 else {
                throw EmulatorError.badOption(component.option, "mac=\(text): expected six hex bytes, not a group address")
            }
            return bytes
        }
        func forwards(_ component: MachineConfiguration.Component) throws -> UserNetworkConfiguration {
            let rules = try component.properties.filter { $0.key == "hostfwd" }.map {
                try UserNetworkConfiguration.PortForward(parsing: $0.value, option: component.option)
            }
            return UserNetworkConfiguration(forwards: rules)
        }

        for nic in configuration.nics where nic.kind == "user" {
            let model = Model(rawValue: nic.value("model") ?? Model.pci.rawValue) ?? .pci
            var plan = Plan(model: model, mac: try mac(nic), network: try forwards(nic))
            if model == .isa { try place(&plan, from: nic) }
            plans.append(plan)
        }
        var used = Set<String>()
        for device in configuration.devices {
            guard let model = Model(rawValue: device.kind) else { continue }
            guard let id = device.value("netdev") else {
                throw EmulatorError.badOption(device.option, "\(device.kind) needs netdev=ID")
            }
            guard let netdev = configuration.netdevs.first(where: { $0.value("id") == id }) else {
                throw EmulatorError.badOption(device.option, "no -netdev with id=\(id)")
            }
            guard used.insert(id).inserted else {
                throw EmulatorError.badOption(device.option, "-netdev \(id) is already used by another card")
            }
            var plan = Plan(model: model, mac: try mac(device), network: try forwards(netdev))
            if model == .isa { try place(&plan, from: device) }
            plans.append(plan)
        }
        let anyNetworkOption = !configuration.nics.isEmpty || !configuration.netdevs.isEmpty
            || configuration.devices.contains { Model(rawValue: $0.kind) != nil }
        if !anyNetworkOption {
            plans.append(Plan(model: .pci, mac: baseMAC, network: UserNetworkConfiguration()))
        }
        return plans
    }

    /// iobase= and irq= of an ISA card.
    private static func place(_ plan: inout Plan, from component: MachineConfiguration.Component) throws {
        if let text = component.value("iobase") {
            let digits = text.hasPrefix("0x") || text.hasPrefix("0X") ? String(text.dropFirst(2)) : text
            let radix = digits.count == text.count ? 10 : 16
            guard let base = UInt16(digits, radix: radix), Int(base) + NE2000Ports.count <= 0x10000, base >= 0x100 else {
                throw EmulatorError.badOption(component.option, "iobase=\(text): expected a port from 0x100 to 0xFFE0")
            }
            plan.isaBase = base
        }
        if let text = component.value("irq") {
            guard let irq = Int(text), (3...15).contains(irq), irq != 8, irq != 13 else {
                throw EmulatorError.badOption(component.option, "irq=\(text): expected an ISA IRQ from 3 to 15")
            }
            plan.isaIRQ = irq
        }
    }
}

/// Carries frames between a card's chip (the CPU thread's) and its network
/// (whose thread delivers slirp's frames). Frames arriving while the ring is
/// full or the receiver stopped wait here, up to a limit, and go in as the
/// driver frees ring space, as QEMU holds them back: dropping them would
/// leave TCP to retransmit at its slow pace.
final class NetworkLink {
    static let heldLimit = 1024

    let chip: EthernetController
    private let loop: CPUThreadLoop
    var network: SlirpNetwork?
    private let inboxLock = NSLock()
    private var inbox: [[UInt8]] = []
    private var inboxDropped = 0
    private var drainPosted = false
    /// CPU thread only: frames waiting for ring space, oldest first.
    private var held: [[UInt8]] = []
    private var heldHead = 0

    init(chip: EthernetController, loop: CPUThreadLoop) {
        self.chip = chip
        self.loop = loop
        chip.transmit = { [unowned self] frame in self.network?.send(frame) }
        chip.receiveSpaceFreed = { [unowned self] in self.offerHeldFrames() }
    }

    /// On the network thread.
    func receiveFromNetwork(_ frame: [UInt8]) {
        inboxLock.lock()
        if inbox.count < NetworkLink.heldLimit { inbox.append(frame) } else { inboxDropped += 1 }
        let post = !drainPosted
        drainPosted = true
        inboxLock.unlock()
        if post { loop.post { [self] in takeInbox() } }
    }

    private func takeInbox() {
        inboxLock.lock()
        let frames = inbox
        let dropped = inboxDropped
        inbox.removeAll(keepingCapacity: true)
        inboxDropped = 0
        drainPosted = false
        inboxLock.unlock()
        for _ in 0..<dropped { chip.recordMissedFrame() }
        for frame in frames {
            if held.count - heldHead < NetworkLink.heldLimit { held.append(frame) } else { chip.recordMissedFrame() }
        }
        offerHeldFrames()
    }

    private func offerHeldFrames() {
        while heldHead < held.count {
            if chip.receive(held[heldHead]) == .noRoom { break }
            heldHead += 1
        }
        if heldHead == held.count {
            held.removeAll(keepingCapacity: true)
            heldHead = 0
        } else if heldHead > 256 {
            held.removeFirst(heldHead)
            heldHead = 0
        }
    }
}
