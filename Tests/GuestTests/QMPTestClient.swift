import Foundation
import TestSupport

/// QEMU's own QMP client library (PyPI's qemu.qmp, in the repository's
/// .venv, which scripts/setup.sh makes) driving a running pcemu. Each call
/// is one client connection: it runs the steps in order and returns what
/// each gave, and every event heard, as JSON.
struct QMPTestClient {
    let socketPath: String

    /// The venv's python with qemu.qmp, or a failure saying how to set it up.
    static func python() throws -> String {
        let python = DefaultGuest.repository.appendingPathComponent(".venv/bin/python").path
        let check = try? ChildProcess.run(python, ["-c", "import qemu.qmp"], timeout: 60)
        guard check?.status == 0 else {
            throw TestSetupError("QEMU's qemu.qmp is not installed in \(python): run scripts/setup.sh (it makes .venv and pip-installs qemu.qmp)")
        }
        return python
    }

    /// Steps: ["execute": NAME, "arguments": {...}], ["event": NAME, "timeout": s]
    /// (waits for it), ["type": TEXT] (send-key per character), ["sleep": s].
    /// The answer: "greeting", "results" (one per step: "return", "error",
    /// an event, or "timeout") and "events" (all, in order).
    func run(_ steps: [[String: Any]], timeout: TimeInterval = 120) throws -> [String: Any] {
        let script = try makeTemporaryDirectory("pcemu-qmp-client").appendingPathComponent("client.py")
        defer { try? FileManager.default.removeItem(at: script.deletingLastPathComponent()) }
        try QMPTestClient.script.write(to: script, atomically: true, encoding: .utf8)
        let steps = String(decoding: try JSONSerialization.data(withJSONObject: steps), as: UTF8.self)
        let result = try ChildProcess.run(try QMPTestClient.python(), [script.path, socketPath, steps], timeout: timeout)
        guard result.status == 0, let output = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw TestSetupError("the QMP client failed (status \(result.status)): \(result.stderr.suffix(1500))")
        }
        return output
    }

    /// One `execute` step's result, by position.
    static func result(_ answer: [String: Any], _ index: Int) -> [String: Any] {
        ((answer["results"] as? [Any])?[index] as? [String: Any]) ?? [:]
    }

    static let script = #"""
        import asyncio, json, sys, time
        from qemu.qmp import QMPClient, ExecuteError

        # QEMU's qcode for each character typed, with shift where it takes one.
        SHIFTED = {'>': 'dot', '<': 'comma', '$': '4', '(': '9', ')': '0', '*': '8', '_': 'minus', '|': 'backslash',
                   '"': 'apostrophe', ':': 'semicolon', '&': '7', '!': '1', '[': 'bracket_left', ']': 'bracket_right'}
        PLAIN = {' ': 'spc', '-': 'minus', '.': 'dot', '/': 'slash', '=': 'equal', '\n': 'ret', ';': 'semicolon',
                 ',': 'comma', "'": 'apostrophe'}

        def keys(char):
            if char in SHIFTED:
                return ['shift', SHIFTED[char]]
            if char.isupper():
                return ['shift', char.lower()]
            return [PLAIN.get(char, char)]

        async def main():
            path, steps = sys.argv[1], json.loads(sys.argv[2])
            client = QMPClient('pcemu-test')
            heard, results = [], []
            with client.listener() as listener:
                await client.connect(path)
                async def wait_for(name, timeout):
                    deadline = time.monotonic() + timeout
                    while True:
                        for event in heard:
                            if event['event'] == name and not event.get('_taken'):
                                event['_taken'] = True
                                return dict((k, v) for k, v in event.items() if k != '_taken')
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            return {'timeout': True}
                        try:
                            heard.append(dict(await asyncio.wait_for(listener.get(), remaining)))
                        except asyncio.TimeoutError:
                            return {'timeout': True}
                for step in steps:
                    if 'execute' in step:
                        try:
                            value = await client.execute(step['execute'], step.get('arguments'))
                            results.append({'return': value})
                        except ExecuteError as error:
                            results.append({'error': {'class': error.error_class, 'desc': error.error.error.desc}})
                    elif 'event' in step:
                        results.append(await wait_for(step['event'], step.get('timeout', 30)))
                    elif 'type' in step:
                        for char in step['type']:
                            names = keys(char)
                            await client.execute('send-key', {'keys': [{'type': 'qcode', 'data': n} for n in names],
                                                              'hold-time': 20})
                        results.append({'return': {}})
                    elif 'sleep' in step:
                        await asyncio.sleep(step['sleep'])
                        results.append({})
                await asyncio.sleep(0.2)
                heard.extend(dict(event) for event in listener.clear())
                greeting = client.greeting._raw if client.greeting else None
                try:
                    await client.disconnect()
                except EOFError:
                    pass  # PCEmu ended (quit, or the guest powered off) and closed the connection first
            events = [dict((k, v) for k, v in e.items() if k != '_taken') for e in heard]
            print(json.dumps({'greeting': greeting, 'results': results, 'events': events}, default=dict))

        asyncio.run(main())
        """#
}
