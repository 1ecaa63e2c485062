// Sparkplug B payloads through an implementation fieldgate did not write: the Tahu .proto compiled
// by Debian's protoc and run with Debian's python3-protobuf (apt-get install protobuf-compiler
// python3-protobuf). decode() turns payload bytes into the proto's JSON mapping (field names as in
// the .proto); encode() builds a payload (NCMD/DCMD from a "host application") from that JSON.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './spawn.ts';

const PYTHON = process.env.FIELDGATE_PYTHON ?? '/usr/bin/python3';
const PROTO_DIR = join(repoRoot, 'plugins/mqtt/sparkplug');

export const sparkplugPythonSkip: string | false = (() => {
  const protoc = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  if (protoc.status !== 0) return `protoc not found (apt-get install -y protobuf-compiler): ${protoc.error?.message ?? protoc.stderr}`;
  const py = spawnSync(PYTHON, ['-c', 'import google.protobuf'], { encoding: 'utf8' });
  return py.status === 0 ? false : `${PYTHON} cannot import google.protobuf (apt-get install -y python3-protobuf, or set FIELDGATE_PYTHON): ${py.error?.message ?? py.stderr}`;
})();

let outDir: string | null = null;

function compiled(): string {
  if (outDir) return outDir;
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-spb-py-'));
  const r = spawnSync('protoc', [`--proto_path=${PROTO_DIR}`, `--python_out=${dir}`, join(PROTO_DIR, 'sparkplug_b.proto')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`protoc failed on sparkplug_b.proto: ${r.stderr}`);
  outDir = dir;
  return dir;
}

const SCRIPT = `
import sys, json
sys.path.insert(0, sys.argv[1])
import sparkplug_b_pb2 as spb
from google.protobuf.json_format import MessageToDict, ParseDict
req = json.load(sys.stdin)
out = []
for op, arg in req:
    p = spb.Payload()
    if op == 'decode':
        p.ParseFromString(bytes.fromhex(arg))
        out.append(MessageToDict(p, preserving_proto_field_name=True))
    else:
        ParseDict(arg, p)
        out.append(p.SerializeToString().hex())
print(json.dumps(out))
`;

function run(ops: Array<[string, unknown]>): unknown[] {
  const r = spawnSync(PYTHON, ['-c', SCRIPT, compiled()], { input: JSON.stringify(ops), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3-protobuf failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown[];
}

export interface PyMetric {
  name?: string;
  alias?: string;
  timestamp?: string;
  datatype?: number;
  is_null?: boolean;
  int_value?: number;
  long_value?: string;
  float_value?: number;
  double_value?: number;
  boolean_value?: boolean;
  string_value?: string;
}

export interface PyPayload {
  timestamp?: string;
  seq?: string;
  metrics?: PyMetric[];
}

export function pyDecode(payloads: Uint8Array[]): PyPayload[] {
  return run(payloads.map((b) => ['decode', Buffer.from(b).toString('hex')])) as PyPayload[];
}

export function pyEncode(payload: Record<string, unknown>): Buffer {
  return Buffer.from(run([['encode', payload]])[0] as string, 'hex');
}
