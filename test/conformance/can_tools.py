#!/usr/bin/env python3
# Conformance fixture from tools fieldgate did not write: canmatrix writes a DBC with every feature
# the reader must accept and packs frames with known values; python-can's CanutilsLogWriter writes
# them as a .log (with its ` R`/` T` endings) and ASCWriter as a Vector .asc. Writes tools.dbc,
# python-can.log, python-can.asc and
# expected.json (per data frame: id, extended flag, physical values and enum labels) into argv[1].
import json
import os
import random
import sys
from decimal import Decimal

import can
import canmatrix
import canmatrix.formats

out = sys.argv[1]
frames_per_message = int(sys.argv[2]) if len(sys.argv) > 2 else 50
rng = random.Random(15)

cm = canmatrix.CanMatrix()
for ecu in ("BOX", "GATEWAY"):
    cm.add_ecu(canmatrix.Ecu(ecu))
cm.add_frame_defines("GenMsgCycleTime", "INT 0 65535")
cm.add_value_table("OnOff", {0: "Off", 1: "On"})


def sig(name, start, size, little=True, signed=False, factor=1, offset=0, lo=0, hi=0, unit="", **kw):
    s = canmatrix.Signal(name, start_bit=start, size=size, is_little_endian=little, is_signed=signed,
                         factor=Decimal(str(factor)), offset=Decimal(str(offset)), min=Decimal(str(lo)), max=Decimal(str(hi)),
                         unit=unit, receivers=["GATEWAY"], **kw)
    return s


def frame(name, fid, size, extended=False, cycle=None, comment=None):
    f = canmatrix.Frame(name, arbitration_id=canmatrix.ArbitrationId(fid, extended=extended), size=size, transmitters=["BOX"])
    if cycle:
        f.add_attribute("GenMsgCycleTime", str(cycle))
    if comment:
        f.add_comment(comment)
    cm.add_frame(f)
    return f


# Intel and Motorola, signed, factor/offset, a multi-line comment, a cycle time. (canmatrix start
# bits of Motorola signals are its own numbering: 16 here is `23|16@0+` in the file.)
climate = frame("Climate", 0x101, 8, cycle=100, comment="Climate box\nsecond line with a \"quote\"")
climate.add_signal(sig("Temp", 0, 16, signed=True, factor=0.01, lo=-40, hi=125, unit="degC", comment="dry bulb\nPT100"))
climate.add_signal(sig("Pressure", 16, 16, little=False, factor=0.1, lo=300, hi=1100, unit="hPa"))
climate.add_signal(sig("Offsetted", 36, 12, signed=True, factor=0.5, offset=-100, lo=-1124, hi=924))
mode = sig("Mode", 48, 3, hi=7)
for k, v in {0: "Off", 1: "Heating", 2: "Cooling", 3: "Defrost"}.items():
    mode.add_values(k, v)
climate.add_signal(mode)
fan = sig("Fan", 51, 1, hi=1)
fan.add_values(0, "Off")
fan.add_values(1, "On")
climate.add_signal(fan)

# An extended id, a float32 signal.
lab = frame("Lab", 0x18FF5001, 8, extended=True, cycle=1000)
lab.add_signal(sig("Water", 0, 32, is_float=True, lo=-50, hi=150, unit="degC"))
lab.add_signal(sig("Level", 39, 24, little=False, signed=True, factor=0.001, lo=-8000, hi=8000, unit="m"))

# Simple multiplexing.
scd = frame("Scd", 0x102, 5, cycle=500)
scd.add_signal(sig("Channel", 0, 8, hi=2, multiplex="Multiplexor"))
scd.add_signal(sig("CO2", 8, 32, is_float=True, hi=40000, unit="ppm", multiplex=0))
scd.add_signal(sig("RH", 8, 16, factor=0.01, hi=100, unit="%", multiplex=1))

# Extended multiplexing: Page selects SubPage (1) or Alpha (2-3); SubPage selects Beta (4-4) or Gamma (5-7).
ext = frame("Extended", 0x103, 8, cycle=200)
ext.is_complex_multiplexed = True
ext.add_signal(sig("Page", 0, 4, hi=15, multiplex="Multiplexor"))
sub = sig("SubPage", 4, 4, hi=15, multiplex="Multiplexor")
sub.mux_val = 1
sub.muxer_for_signal = "Page"
sub.mux_val_grp = [[1, 1]]
ext.add_signal(sub)
alpha = sig("Alpha", 8, 16, signed=True, factor=0.1, lo=-3276.8, hi=3276.7, multiplex=2)
alpha.muxer_for_signal = "Page"
alpha.mux_val_grp = [[2, 3]]
ext.add_signal(alpha)
beta = sig("Beta", 8, 8, hi=255, multiplex=4)
beta.muxer_for_signal = "SubPage"
beta.mux_val_grp = [[4, 4]]
ext.add_signal(beta)
gamma = sig("Gamma", 23, 16, little=False, hi=65535, multiplex=5)
gamma.muxer_for_signal = "SubPage"
gamma.mux_val_grp = [[5, 7]]
ext.add_signal(gamma)

canmatrix.formats.dumpp({"": cm}, os.path.join(out, "tools.dbc"))
# Frames are packed with the matrix canmatrix reads back from that file, so the bit positions are
# canmatrix's own reading of the DBC (its in-memory start bits for Motorola differ from the file's).
db = next(iter(canmatrix.formats.loadp(os.path.join(out, "tools.dbc")).values()))
climate, lab, scd, ext = (db.frame_by_name(n) for n in ("Climate", "Lab", "Scd", "Extended"))
alpha, beta, gamma = (next(s for s in ext.signals if s.name == n) for n in ("Alpha", "Beta", "Gamma"))


def raw_range(s):
    if s.is_float:
        return None
    return (-(1 << (s.size - 1)), (1 << (s.size - 1)) - 1) if s.is_signed else (0, (1 << s.size) - 1)


def pick(s):
    """A random raw value (floats: exact in float32)."""
    if s.is_float:
        return Decimal(rng.choice(["21.5", "-3.25", "1013.125", "0", "400", "39999.5"]))
    lo, hi = raw_range(s)
    return Decimal(rng.randint(lo, hi))


expected = []
messages = []
t = 1734001123.0


def emit(f, raws, labels):
    """Packs raw values with canmatrix (Frame.encode takes raw values); expects raw * factor + offset."""
    global t
    t += 0.001
    data = f.signals_to_bytes(raws) if f.is_complex_multiplexed else f.encode(raws)
    values = {k: v * by(f, k).factor + by(f, k).offset for k, v in raws.items()}
    messages.append(can.Message(timestamp=t, arbitration_id=f.arbitration_id.id, is_extended_id=f.arbitration_id.extended,
                                data=data, is_rx=len(messages) % 3 != 0, channel="can0"))
    expected.append({"id": f.arbitration_id.id, "ext": f.arbitration_id.extended, "values": {k: str(v) for k, v in values.items()}, "labels": labels})


by = lambda f, n: next(s for s in f.signals if s.name == n)
for _ in range(frames_per_message):
    v = {s.name: pick(s) for s in climate.signals if s.name not in ("Mode", "Fan")}
    v["Mode"] = Decimal(rng.randint(0, 7))
    v["Fan"] = Decimal(rng.randint(0, 1))
    labels = {}
    if int(v["Mode"]) <= 3:
        labels["Mode"] = ["Off", "Heating", "Cooling", "Defrost"][int(v["Mode"])]
    labels["Fan"] = ["Off", "On"][int(v["Fan"])]
    emit(climate, v, labels)
    emit(lab, {s.name: pick(s) for s in lab.signals}, {})
    ch = rng.randint(0, 1)
    emit(scd, {"Channel": Decimal(ch), **({"CO2": pick(by(scd, "CO2"))} if ch == 0 else {"RH": pick(by(scd, "RH"))})}, {})
    page = rng.choice([1, 2, 3])
    if page == 1:
        subpage = rng.choice([4, 5, 6, 7])
        leaf = {"Beta": pick(beta)} if subpage == 4 else {"Gamma": pick(gamma)}
        emit(ext, {"Page": Decimal(1), "SubPage": Decimal(subpage), **leaf}, {})
    else:
        emit(ext, {"Page": Decimal(page), "Alpha": pick(alpha)}, {})

# Frames a log also carries: a remote frame, an error frame, an unknown id.
t += 0.001
remote = can.Message(timestamp=t, arbitration_id=0x101, is_extended_id=False, is_remote_frame=True, dlc=8, channel="can0")
error = can.Message(timestamp=t + 0.001, is_error_frame=True, channel="can0")
unknown = can.Message(timestamp=t + 0.002, arbitration_id=0x7AB, is_extended_id=False, data=b"\x01\x02", channel="can0")

with can.CanutilsLogWriter(os.path.join(out, "python-can.log")) as w:
    for m in messages + [remote, error, unknown]:
        w.on_message_received(m)
with can.ASCWriter(os.path.join(out, "python-can.asc")) as w:
    for m in messages + [remote, error, unknown]:
        w.on_message_received(m)

with open(os.path.join(out, "expected.json"), "w") as fh:
    json.dump({"python_can": can.__version__, "frames": expected, "extra": {"remote": 1, "error": 1, "unknown": 1}}, fh)
