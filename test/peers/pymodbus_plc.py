#!/usr/bin/env python3
"""The lab's NJ301 played by a Modbus TCP server we did not write (Debian's python3-pymodbus 3.x).

Holds the real lab's holding-register map (0..1023, zero-based), runs a tiny stand-in PLC program
every 40 ms (heartbeat HR 101, ack_seq HR 100 = gw_tx_seq HR 0, setpoint out HR 113-114, MV HR
102-103) and logs every request it serves. A test restarts "the PLC" by killing this process and
starting it again on the same port (--memory zero: nothing retained; defaults: initial values).

Control on stdin, one command per line, one JSON line answered on stdout:
  get <address> <count>   holding registers
  log                     requests served so far: [[fc, address, count], ...] (reads and writes)
  halt | run              stop / resume the PLC program (Modbus keeps answering)
  reset zero|defaults     memory lost while connections stay open (an online program change)
The process exits when stdin closes, so it never outlives the test.
"""
import argparse
import asyncio
import json
import struct
import sys

import pymodbus
from peer_loop import run_with_control
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext

MAJOR = int(pymodbus.__version__.split(".")[0])
if MAJOR < 3:
    print(json.dumps({"error": f"pymodbus {pymodbus.__version__}: this script needs pymodbus 3.x"}), flush=True)
    sys.exit(3)
from pymodbus.server.async_io import ModbusTcpServer  # noqa: E402  (3.x only)

SIZE = 1024
LOG_LIMIT = 100000
DEFAULTS = {"mode": 1, "setpoint": 25.0, "pb": 10.0, "ti": 60.0, "td": 0.0, "mv_manual": 0.0, "rtd_temp": 22.0}


def to_words(value):
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return [hi, lo]


def to_real(words):
    return struct.unpack(">f", struct.pack(">HH", words[0], words[1]))[0]


class LoggingContext(ModbusSlaveContext):
    """Records each request the server executes: one setValues per write request, one getValues per read."""

    def __init__(self, log, **kwargs):
        super().__init__(**kwargs)
        self.log = log

    def getValues(self, fc_as_hex, address, count=1):  # noqa: N802 (pymodbus API)
        if fc_as_hex in (3, 4) and len(self.log) < LOG_LIMIT:
            self.log.append([fc_as_hex, address, count])
        return super().getValues(fc_as_hex, address, count)

    def setValues(self, fc_as_hex, address, values):  # noqa: N802
        if len(self.log) < LOG_LIMIT:
            self.log.append([fc_as_hex, address, len(values)])
        super().setValues(fc_as_hex, address, values)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--memory", choices=["zero", "defaults"], default="defaults")
    args = parser.parse_args()

    hr = ModbusSequentialDataBlock(0, [0] * SIZE)

    def load(memory):
        hr.setValues(0, [0] * SIZE)
        if memory == "defaults":
            hr.setValues(4, [DEFAULTS["mode"]])
            for address, name in ((1, "rtd_temp"), (6, "mv_manual"), (8, "setpoint"), (11, "pb"), (13, "ti"), (15, "td")):
                hr.setValues(address, to_words(DEFAULTS[name]))

    load(args.memory)
    log = []
    slave = LoggingContext(log, hr=hr, zero_mode=True)
    context = ModbusServerContext(slaves={1: slave}, single=False)
    state = {"halted": False}

    def words(address, count):
        return hr.getValues(address, count)

    async def program():
        # The stand-in PLC program: what the gateway needs to see from a live PLC.
        while True:
            await asyncio.sleep(0.04)
            if state["halted"]:
                continue
            hr.setValues(101, [(words(101, 1)[0] + 1) & 0xFFFF])
            hr.setValues(100, words(0, 1))
            sp = to_real(words(8, 2))
            pv = to_real(words(1, 2))
            pb = to_real(words(11, 2))
            mode = words(4, 1)[0]
            mv = to_real(words(6, 2)) if mode == 0 else (100.0 / pb * (sp - pv) if pb > 0 else 0.0)
            hr.setValues(102, to_words(min(100.0, max(0.0, mv))))
            hr.setValues(113, to_words(sp))

    def control(loop):
        for line in sys.stdin:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "get":
                answer = words(int(parts[1]), int(parts[2]))
            elif parts[0] == "log":
                answer = list(log)
            elif parts[0] == "reset" and len(parts) == 2 and parts[1] in ("zero", "defaults"):
                load(parts[1])
                answer = True
            elif parts[0] in ("halt", "run"):
                state["halted"] = parts[0] == "halt"
                answer = True
            else:
                answer = {"error": f"unknown command {parts[0]!r}; use get, log, halt, run or reset"}
            print(json.dumps(answer), flush=True)
        loop.call_soon_threadsafe(loop.stop)

    async def serve():
        server = ModbusTcpServer(context, address=("127.0.0.1", args.port), allow_reuse_address=True)
        asyncio.ensure_future(server.serve_forever())
        await server.serving
        print(json.dumps({"listening": args.port, "pymodbus": pymodbus.__version__}), flush=True)
        await program()

    run_with_control(control, serve)


if __name__ == "__main__":
    main()
