#!/usr/bin/env python3
"""A Modbus RTU slave we did not write (Debian's python3-pymodbus 3.x with python3-serial) on a serial
port, for conformance tests of our RTU master.

Unit 1 (zero-based addresses, 100 of each table): holding registers 0..99 = 0, input registers
i = 1000 + i, coils = 0, discrete inputs i = (i % 3 == 0). Anything at 100 and above is an illegal
data address (exception 2). Other units get no answer.

Control on stdin, one command per line, one JSON line answered on stdout:
  get hr|co <address> <count>   holding registers / coils as the slave holds them
The first line on stdout is {"serving": PATH, "pymodbus": VERSION} once the port is open.
The process exits when stdin closes, so it never outlives the test.
"""
import argparse
import json
import sys

import pymodbus
from peer_loop import run_with_control
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext

if int(pymodbus.__version__.split(".")[0]) < 3:
    print(json.dumps({"error": f"pymodbus {pymodbus.__version__}: this script needs pymodbus 3.x"}), flush=True)
    sys.exit(3)
from pymodbus.server.async_io import ModbusSerialServer  # noqa: E402  (3.x only)
from pymodbus.transaction import ModbusRtuFramer  # noqa: E402

SIZE = 100


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serial", required=True)
    parser.add_argument("--baud", type=int, default=38400)
    args = parser.parse_args()

    hr = ModbusSequentialDataBlock(0, [0] * SIZE)
    co = ModbusSequentialDataBlock(0, [False] * SIZE)
    ir = ModbusSequentialDataBlock(0, [1000 + i for i in range(SIZE)])
    di = ModbusSequentialDataBlock(0, [i % 3 == 0 for i in range(SIZE)])
    slave = ModbusSlaveContext(hr=hr, co=co, ir=ir, di=di, zero_mode=True)
    context = ModbusServerContext(slaves={1: slave}, single=False)

    def control(loop):
        for line in sys.stdin:
            parts = line.split()
            if len(parts) == 4 and parts[0] == "get" and parts[1] in ("hr", "co"):
                block = hr if parts[1] == "hr" else co
                answer = [int(v) for v in block.getValues(int(parts[2]), int(parts[3]))]
            else:
                answer = {"error": f"unknown command {line.strip()!r}; use get hr|co ADDRESS COUNT"}
            print(json.dumps(answer), flush=True)
        loop.call_soon_threadsafe(loop.stop)

    async def serve():
        server = ModbusSerialServer(context, framer=ModbusRtuFramer, port=args.serial, baudrate=args.baud,
                                    ignore_missing_slaves=True)
        await server.start()
        if server.transport is None:
            print(json.dumps({"error": f"cannot open {args.serial}"}), flush=True)
            loop.stop()
            return
        print(json.dumps({"serving": args.serial, "pymodbus": pymodbus.__version__}), flush=True)
        await server.serve_forever()

    run_with_control(control, serve)


if __name__ == "__main__":
    main()
