import asyncio
from qemu.qmp import QMPClient
async def main():
    for n in range(2):
        q = QMPClient('t')
        await q.connect(('127.0.0.1', 14444))
        print(await q.execute('query-status'))
        if n == 1:
            await q.execute('quit')
        try:
            await q.disconnect()
        except EOFError:
            pass
asyncio.run(main())
