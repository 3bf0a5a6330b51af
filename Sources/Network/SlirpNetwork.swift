import CSlirp
import Foundation
import PCEmuSupport

/// User-mode networking: libslirp's TCP/IP stack between the guest's
/// Ethernet frames and the host's sockets. libslirp is not thread-safe, so
/// every call into it happens on this object's own thread, which sleeps in
/// poll() on slirp's sockets and a wake-up eventfd, and runs slirp's timers.
///
/// Frames from the guest arrive through `send` (any thread: the CPU thread)
/// and are queued for that thread; frames slirp produces for the guest go to
/// `deliver`, called on the network thread: the machine hands them to the
/// CPU thread, which alone touches the network card.
public final class SlirpNetwork {
    /// At most this many guest frames wait for the network thread; more are dropped.
    static let outgoingLimit = 1024

    private let configuration: UserNetworkConfiguration
    private let deliver: ([UInt8]) -> Void
    private var slirp: OpaquePointer?
    private var callbacks = SlirpCb()
    private let wakeDescriptor: Int32
    private let lock = NSLock()
    private var outgoing: [[UInt8]] = []
    private var stopping = false
    private var pollDescriptors: [pollfd] = []
    private var timers: [SlirpTimer] = []
    private var thread: Thread?

    /// Builds the stack and its forwards (a host port that cannot be bound is
    /// a one-line error); `start` runs it.
    public init(configuration: UserNetworkConfiguration, deliver: @escaping ([UInt8]) -> Void) throws {
        self.configuration = configuration
        self.deliver = deliver
        wakeDescriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wakeDescriptor >= 0 else {
            throw EmulatorError.configuration("user network: eventfd: \(String(cString: strerror(errno)))")
        }
        callbacks.send_packet = { buffer, length, opaque in
            let network = Unmanaged<SlirpNetwork>.fromOpaque(opaque!).takeUnretainedValue()
            let frame = [UInt8](UnsafeRawBufferPointer(start: buffer, count: length))
            network.deliver(frame)
            return length
        }
        callbacks.guest_error = { message, _ in
            Log.write(.guestErrors, "slirp: \(String(cString: message!))")
        }
        callbacks.clock_get_ns = { _ in SlirpNetwork.monotonicNanoseconds() }
        callbacks.timer_new = { callback, callbackOpaque, opaque in
            let network = Unmanaged<SlirpNetwork>.fromOpaque(opaque!).takeUnretainedValue()
            let timer = SlirpTimer(callback: callback!, opaque: callbackOpaque)
            network.timers.append(timer)
            return Unmanaged.passUnretained(timer).toOpaque()
        }
        callbacks.timer_free = { timer, opaque in
            let network = Unmanaged<SlirpNetwork>.fromOpaque(opaque!).takeUnretainedValue()
            let object = Unmanaged<SlirpTimer>.fromOpaque(timer!).takeUnretainedValue()
            network.timers.removeAll { $0 === object }
        }
        callbacks.timer_mod = { timer, expireMilliseconds, _ in
            Unmanaged<SlirpTimer>.fromOpaque(timer!).takeUnretainedValue().deadline = expireMilliseconds
        }
        callbacks.register_poll_fd = { _, _ in }
        callbacks.unregister_poll_fd = { _, _ in }
        callbacks.notify = { opaque in
            Unmanaged<SlirpNetwork>.fromOpaque(opaque!).takeUnretainedValue().wake()
        }
        try createStack()
    }

    deinit {
        if let slirp { slirp_cleanup(slirp) }
        close(wakeDescriptor)
    }

    private func createStack() throws {
        var config = SlirpConfig()
        config.version = 1
        config.restricted = 0
        config.in_enabled = true
        config.vnetwork = SlirpNetwork.address(UserNetworkConfiguration.network)
        config.vnetmask = SlirpNetwork.address(UserNetworkConfiguration.netmask)
        config.vhost = SlirpNetwork.address(UserNetworkConfiguration.host)
        config.in6_enabled = false
        config.vdhcp_start = SlirpNetwork.address(UserNetworkConfiguration.firstDHCPAddress)
        config.vnameserver = SlirpNetwork.address(UserNetworkConfiguration.nameServer)
        config.disable_host_loopback = false
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        slirp = withUnsafePointer(to: &callbacks) { callbackPointer in
            withUnsafePointer(to: &config) { slirp_new($0, callbackPointer, opaque) }
        }
        guard let slirp else { throw EmulatorError.configuration("user network: libslirp could not start") }
        for forward in configuration.forwards {
            let result = slirp_add_hostfwd(slirp, forward.proto == .udp ? 1 : 0,
                                           SlirpNetwork.address(forward.hostAddress.isEmpty ? "0.0.0.0" : forward.hostAddress),
                                           Int32(forward.hostPort),
                                           SlirpNetwork.address(forward.guestAddress.isEmpty ? "0.0.0.0" : forward.guestAddress),
                                           Int32(forward.guestPort))
            guard result == 0 else {
                throw EmulatorError.configuration("hostfwd=\(forward.proto.rawValue):\(forward.hostAddress):\(forward.hostPort)-\(forward.guestAddress):\(forward.guestPort): cannot listen on the host port")
            }
        }
    }

    static func address(_ dotted: String) -> in_addr {
        var result = in_addr()
        _ = inet_pton(AF_INET, dotted, &result)
        return result
    }

    static func monotonicNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    // MARK: Any thread

    /// Runs the stack on its own thread.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "slirp"
        self.thread = thread
        thread.start()
    }

    /// Queues a frame the guest transmitted.
    public func send(_ frame: [UInt8]) {
        lock.lock()
        let accepted = outgoing.count < SlirpNetwork.outgoingLimit
        if accepted { outgoing.append(frame) }
        lock.unlock()
        if accepted { wake() } else { Log.write(.device, "slirp: outgoing queue full, frame dropped") }
    }

    public func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
        wake()
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, MemoryLayout<UInt64>.size)
    }

    // MARK: The network thread

    private func run() {
        guard let slirp else { return }
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        while true {
            lock.lock()
            let frames = outgoing
            outgoing.removeAll(keepingCapacity: true)
            let done = stopping
            lock.unlock()
            if done { return }
            for frame in frames {
                frame.withUnsafeBufferPointer { slirp_input(slirp, $0.baseAddress, Int32($0.count)) }
            }

            pollDescriptors.removeAll(keepingCapacity: true)
            pollDescriptors.append(pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0))
            var timeout: UInt32 = 1000
            slirp_pollfds_fill(slirp, &timeout, { descriptor, events, opaque in
                let network = Unmanaged<SlirpNetwork>.fromOpaque(opaque!).takeUnretainedValue()
                network.pollDescriptors.append(pollfd(fd: descriptor, events: SlirpNetwork.pollEvents(events), revents: 0))
                return Int32(network.pollDescriptors.count - 1)
            }, opaque)
            let now = SlirpNetwork.monotonicNanoseconds() / 1_000_000
            for timer in timers where timer.deadline >= 0 {
                timeout = min(timeout, UInt32(clamping: max(0, timer.deadline - now)))
            }
            let ready = poll(&pollDescriptors, nfds_t(pollDescriptors.count), Int32(clamping: timeout))
            if ready > 0 && pollDescriptors[0].revents != 0 {
                var count: UInt64 = 0
                _ = read(wakeDescriptor, &count, MemoryLayout<UInt64>.size)
            }
            slirp_pollfds_poll(slirp, ready < 0 ? 1 : 0, { index, opaque in
                let network = Unmanaged<SlirpNetwork>.fromOpaque(opaque!).takeUnretainedValue()
                guard index >= 0, Int(index) < network.pollDescriptors.count else { return 0 }
                return SlirpNetwork.slirpEvents(network.pollDescriptors[Int(index)].revents)
            }, opaque)
            runExpiredTimers()
        }
    }

    private func runExpiredTimers() {
        let now = SlirpNetwork.monotonicNanoseconds() / 1_000_000
        // A callback may free or re-arm timers: take the due ones first.
        let due = timers.filter { $0.deadline >= 0 && $0.deadline <= now }
        for timer in due where timers.contains(where: { $0 === timer }) {
            timer.deadline = -1
            timer.callback(timer.opaque)
        }
    }

    static func pollEvents(_ slirpEvents: Int32) -> Int16 {
        var events: Int32 = 0
        if slirpEvents & Int32(SLIRP_POLL_IN) != 0 { events |= Int32(POLLIN) }
        if slirpEvents & Int32(SLIRP_POLL_OUT) != 0 { events |= Int32(POLLOUT) }
        if slirpEvents & Int32(SLIRP_POLL_PRI) != 0 { events |= Int32(POLLPRI) }
        if slirpEvents & Int32(SLIRP_POLL_ERR) != 0 { events |= Int32(POLLERR) }
        if slirpEvents & Int32(SLIRP_POLL_HUP) != 0 { events |= Int32(POLLHUP) }
        return Int16(events)
    }

    static func slirpEvents(_ pollEvents: Int16) -> Int32 {
        let events = Int32(pollEvents)
        var result: Int32 = 0
        if events & Int32(POLLIN) != 0 { result |= Int32(SLIRP_POLL_IN) }
        if events & Int32(POLLOUT) != 0 { result |= Int32(SLIRP_POLL_OUT) }
        if events & Int32(POLLPRI) != 0 { result |= Int32(SLIRP_POLL_PRI) }
        if events & Int32(POLLERR) != 0 { result |= Int32(SLIRP_POLL_ERR) }
        if events & Int32(POLLHUP) != 0 { result |= Int32(SLIRP_POLL_HUP) }
        return result
    }
}

/// One of slirp's timers: a deadline in host milliseconds (-1: disarmed).
final class SlirpTimer {
    let callback: SlirpTimerCb
    let opaque: UnsafeMutableRawPointer?
    var deadline: Int64 = -1

    init(callback: SlirpTimerCb, opaque: UnsafeMutableRawPointer?) {
        self.callback = callback
        self.opaque = opaque
    }
}
