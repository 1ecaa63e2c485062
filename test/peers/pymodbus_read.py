#!/usr/bin/env python3
# An independent Modbus TCP master (Debian python3-pymodbus 3.x) for conformance tests: reads
# registers from a device and decodes float32 itself (struct, big-endian words), writes float32
# holding registers, and reports exception codes, as one JSON line on stdout.
#   pymodbus_read.py --port P [--unit 1] read-floats TABLE ADDR[,ADDR...]
#   pymodbus_read.py --port P write-float ADDR VALUE
#   pymodbus_read.py --port P read-raw TABLE ADDR COUNT
# With --serial PATH [--baud B] instead of --port: Modbus RTU on that serial port.
import argparse
import json
import struct
import sys

from pymodbus.client import ModbusSerialClient, ModbusTcpClient


def words_to_float(hi, lo):
    return struct.unpack('>f', struct.pack('>HH', hi, lo))[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int)
    ap.add_argument('--serial')
    ap.add_argument('--baud', type=int, default=38400)
    ap.add_argument('--unit', type=int, default=1)
    ap.add_argument('op')
    ap.add_argument('args', nargs='*')
    a = ap.parse_args()
    if a.serial:
        client = ModbusSerialClient(method='rtu', port=a.serial, baudrate=a.baud, timeout=2)
    else:
        client = ModbusTcpClient(a.host, port=a.port, timeout=3)
    if not client.connect():
        print(json.dumps({'error': 'cannot connect'}))
        return 1

    def read(table, address, count):
        fn = client.read_input_registers if table == 'input' else client.read_holding_registers
        r = fn(address, count, slave=a.unit)
        if r.isError():
            return {'exception': getattr(r, 'exception_code', None), 'text': str(r)}
        return {'registers': list(r.registers)}

    out = {}
    if a.op == 'read-floats':
        table, addrs = a.args[0], [int(x) for x in a.args[1].split(',')]
        values = {}
        for addr in addrs:
            r = read(table, addr, 2)
            if 'registers' not in r:
                out = r
                break
            values[str(addr)] = words_to_float(*r['registers'])
        else:
            out = {'values': values}
    elif a.op == 'read-raw':
        out = read(a.args[0], int(a.args[1]), int(a.args[2]))
    elif a.op == 'write-float':
        hi, lo = struct.unpack('>HH', struct.pack('>f', float(a.args[1])))
        r = client.write_registers(int(a.args[0]), [hi, lo], slave=a.unit)
        out = {'exception': getattr(r, 'exception_code', None)} if r.isError() else {'ok': True}
    else:
        out = {'error': 'unknown op ' + a.op}
    client.close()
    print(json.dumps(out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
