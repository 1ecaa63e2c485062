"""The event-loop shape every Python peer uses: the server runs on an asyncio loop in the main
thread while a daemon thread reads control commands from stdin and schedules them on that loop."""
import asyncio
import threading


def run_with_control(control, serve):
    """`control(loop)` runs in a daemon thread; `serve()` is the server's coroutine. Never returns."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    threading.Thread(target=control, args=(loop,), daemon=True).start()
    loop.create_task(serve())
    loop.run_forever()
