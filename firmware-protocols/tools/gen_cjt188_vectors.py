#!/usr/bin/env python3
"""Generates the CJ/T 188 golden vectors (firmware-protocols/cjt188.md) and the CJ/T 188 fuzzing seed corpus.

This is an implementation independent of the Swift decoder: frames are laid out by hand here, the checksum is summed
here, and the expected result of every frame (decoded fields, decimal text, millilitres, clock, status bits, or the
error code) comes from the reference decoder in this file, which follows the rules of cjt188.md step by step. The
public example frames of /work/shared/vectors/public-examples.json are copied in verbatim (hex and stated values).

Usage (from the repository root):
    python3 firmware-protocols/tools/gen_cjt188_vectors.py

Writes firmware-protocols/cjt188-vectors.json and firmware-protocols/corpus/cjt188/ (selector byte 0x01 + frame;
valid frames once more with selector 0x81 = recompute the checksum before decoding). Deterministic: running it twice
gives identical files. Needs only the Python standard library.
"""

import calendar
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The public examples (hex and stated values), copied from /work/shared/vectors/public-examples.json so that the
# generator does not depend on a path outside the repository.
PUBLIC_EXAMPLES = [
    {
        "name": "cjt188-read-request",
        "title": "Read meter data request (cold water, DI sent as 1F 90)",
        "frame_hex": "FEFEFEFE68104433221100337801031F90008016",
        "expected": {
            "T": "0x10 cold water", "address_A0..A6": "44 33 22 11 00 33 78", "meter_number": "0011223344",
            "factory_code": "7833", "C": "0x01 read data", "L": 3, "DI": "901F (wire 1F 90)", "SER": "00",
            "CS": "0x80 = sum 68..00 mod 256",
        },
        "source": "https://hftangyu.com/563.html (same text at https://cnblogs.com/yangykaifa/p/7010777.html)",
    },
    {
        "name": "cjt188-valve-open-request",
        "title": "Write valve control: OPEN (DI A017 sent as A0 17, SER 01, 55H=open)",
        "frame_hex": "FEFEFEFE6810690590051533780404A01701555016",
        "expected": {
            "C": "0x04 write data", "L": 4, "DI": "A017 (wire A0 17)", "SER": "01", "command": "0x55 open valve",
            "meter_number": "1505900569", "factory_code": "7833",
        },
        "source": "https://biecuoliao.com/pa/3ON9QK0.html",
    },
    {
        "name": "cjt188-valve-response",
        "title": "Valve control response (C=84, ST 00 00 = valve open, normal)",
        "frame_hex": "FEFEFEFE6810690590051533788405A0170100007C16",
        "expected": {
            "C": "0x84", "L": 5, "DI": "A017", "SER": "01", "ST": "00 00",
            "status_word_semantics": "0000 normal open, 0001 normal closed, 0011 abnormal (bits D1 D0)",
        },
        "source": "https://biecuoliao.com/pa/3ON9QK0.html",
    },
    {
        "name": "cjt188-read-address-response",
        "title": "Read address response (address 00000000000012)",
        "frame_hex": "FEFEFE6810120000000000008303810A009B16",
        "expected": {"T": "0x10", "address": "00000000000012", "C": "0x83", "L": 3, "DI": "810A", "SER": "00",
                     "CS": "0x9B"},
        "source": "scribd.com/document/476625364 (SHORT rs485 communication protocol); aixiwang/python_cjt188",
    },
    {
        "name": "cjt188-read-data-response",
        "title": "Synthetic read data response from python_cjt188 self-test (ST second byte FF)",
        "frame_hex": "FEFEFE6810120000000000008116901F00100010002C100010002C0000000000000000FF6716",
        "expected": {
            "meter_type": "0x10", "address": "00000000000012", "control": "0x81", "di": "901F (wire 90 1F)",
            "current_volume_m3": 1000.1, "settlement_volume_m3": 1000.1, "unit": "0x2C m3",
            "clock": "all zero = no clock", "status": "ST1 00, ST2 FF",
        },
        "source": "aixiwang/python_cjt188 python_cjt188.py",
    },
]

# ---------------------------------------------------------------------------------------------------------------
# Tables (cjt188.md section 4)

FUNCTIONS = {0x01: "read_data", 0x03: "read_address", 0x04: "write_data", 0x09: "read_key_version",
             0x15: "write_address", 0x16: "synchronize"}


def di_function(di):
    """The function code a known DI belongs to, or None for an unknown DI."""
    if di in (0x901F, 0x907F, 0x911F) or 0x8102 <= di <= 0x8105 or 0xD120 <= di <= 0xD12B:
        return 0x01
    if di == 0x810A:
        return 0x03
    if 0xA010 <= di <= 0xA015 or di in (0xA017, 0xA019) or 0xA101 <= di <= 0xA107:
        return 0x04
    if di == 0xA016:
        return 0x16
    if di == 0xA018:
        return 0x15
    return None


def family_of(t):
    if 0x10 <= t <= 0x19:
        return "water"
    if 0x20 <= t <= 0x29:
        return "heat"
    if 0x30 <= t <= 0x39:
        return "gas"
    if 0x40 <= t <= 0x49:
        return "custom"
    if t == 0xAA:
        return "wildcard"
    return None


def unit_kind(code):
    if 0x01 <= code <= 0x13:
        return "energy"
    if 0x14 <= code <= 0x1C:
        return "power"
    if 0x29 <= code <= 0x2E:
        return "volume"
    if 0x32 <= code <= 0x37:
        return "flow"
    return None


ENERGY_SYMBOLS = ["J", "Wh", "Wh", "Wh", "kWh", "kWh", "kWh", "MWh", "MWh", "MWh", "kJ", "kJ", "kJ", "MJ", "MJ", "MJ",
                  "GJ", "GJ", "GJ"]
ENERGY_MULT = [0] + [0, 1, 2] * 6
POWER_SYMBOLS = ["W"] * 3 + ["kW"] * 3 + ["MW"] * 3


def unit_display(code):
    """(symbol the value is shown in, power of ten from one unit of the code to that symbol)."""
    kind = unit_kind(code)
    if kind == "energy":
        return ENERGY_SYMBOLS[code - 0x01], ENERGY_MULT[code - 0x01]
    if kind == "power":
        return POWER_SYMBOLS[code - 0x14], (code - 0x14) % 3
    if kind == "volume":
        # 29 L, 2A L x10, 2B L x100, 2C m3, 2D m3 x10, 2E m3 x100
        return "m3", [-3, -2, -1, 0, 1, 2][code - 0x29]
    if kind == "flow":
        return "m3/h", [-3, -2, -1, 0, 1, 2][code - 0x32]
    raise ValueError(code)


def decimal_text(raw, decimals, exponent):
    """raw x 10^-decimals x 10^exponent as exact text with max(0, decimals - exponent) digits after the point."""
    scale = max(0, decimals - exponent)
    value = raw * 10 ** (scale - (decimals - exponent))
    digits = str(value).rjust(scale + 1, "0")
    return digits if scale == 0 else digits[:-scale] + "." + digits[-scale:]


STATUS_NAMES = ["valve_closed", "valve_abnormal", "battery_low"] + ["st1_bit%d" % i for i in range(3, 8)] + \
    ["st2_bit%d" % i for i in range(8)]


def status_fields(st1, st2):
    raw = st1 | st2 << 8
    bits = [STATUS_NAMES[i] for i in range(16) if raw >> i & 1]
    valve = "fault" if st1 & 0x02 else ("closed" if st1 & 0x01 else "open")
    alarms = []
    if st1 & 0x02:
        alarms.append({"condition": "valve_fault", "source": "valve_abnormal", "priority": "P1"})
    if st1 & 0x04:
        alarms.append({"condition": "battery_low", "source": "battery_low", "priority": "P3"})
    return {"raw": raw, "st1": st1, "st2": st2, "bits": bits}, valve, alarms


def checksum(frame):
    return sum(frame) % 256


# ---------------------------------------------------------------------------------------------------------------
# Reference decoder (cjt188.md section 3): returns ("ok", fields) or ("error", code)


class Reject(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def bcd_le(data, offset, count):
    value = 0
    for index in reversed(range(count)):
        byte = data[offset + index]
        if byte >> 4 > 9 or byte & 0x0F > 9:
            return None
        value = value * 100 + (byte >> 4) * 10 + (byte & 0x0F)
    return value


def quantity(data, offset, decimals, kind):
    raw = bcd_le(data, offset, 4)
    if raw is None:
        raise Reject("field_out_of_range")
    unit = data[offset + 4]
    if unit_kind(unit) != kind:
        raise Reject("field_out_of_range")
    symbol, exponent = unit_display(unit)
    entry = {"value": decimal_text(raw, decimals, exponent), "unit": symbol, "unit_code": unit, "raw": raw}
    if kind == "volume":
        entry["millilitres"] = str(raw * 10 ** (6 - decimals + exponent))
    return entry


def clock(data, offset):
    """("valid", iso) | ("not_set", None) | ("invalid", None)."""
    field = data[offset:offset + 7]
    if all(b == 0 for b in field):
        return "not_set", None
    values = []
    for byte in field:
        if byte >> 4 > 9 or byte & 0x0F > 9:
            return "invalid", None
        values.append((byte >> 4) * 10 + (byte & 0x0F))
    second, minute, hour, day, month, year_low, century = values
    year = century * 100 + year_low
    if not (1 <= month <= 12 and hour <= 23 and minute <= 59 and second <= 59):
        return "invalid", None
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return "invalid", None
    return "valid", "%04d-%02d-%02dT%02d:%02d:%02d" % (year, month, day, hour, minute, second)


def match_di(first, second):
    big = first << 8 | second
    if di_function(big) is not None:
        return big, "big_endian"
    little = second << 8 | first
    if di_function(little) is not None:
        return little, "little_endian"
    return None


def is_vendor(frame):
    n = len(frame)
    if n < 13 or frame[-1] != 0x16:
        return False
    if frame[10] in (0x97, 0x17) and n >= 18 and n == 18 + frame[15]:
        return True
    return checksum(frame[:-2]) == frame[-2]


def reading(quantity_name, entry, storage, label):
    result = {"quantity": quantity_name, "value": entry["value"], "unit": entry["unit"], "storage": storage,
              "unit_code": entry["unit_code"], "label": label}
    if "millilitres" in entry:
        result["millilitres"] = entry["millilitres"]
    return result


def reference_decode(data):
    try:
        return "ok", _decode(bytes(data))
    except Reject as reject:
        return "error", reject.code


def _decode(data):
    start = 0
    while start < len(data) and data[start] == 0xFE:
        start += 1
    if start == len(data):
        raise Reject("truncated")
    if data[start] != 0x68:
        raise Reject("bad_frame")
    frame = data[start:]
    n = len(frame)
    if n < 13:
        raise Reject("truncated")
    length = frame[10]
    if n != 13 + length:
        if is_vendor(frame):
            raise Reject("vendor_frame")
        raise Reject("truncated" if n < 13 + length else "bad_length")
    if frame[-1] != 0x16:
        raise Reject("bad_frame")
    if checksum(frame[:-2]) != frame[-2]:
        raise Reject("bad_checksum")
    c = frame[9]
    function = c & 0x1F
    from_meter = bool(c & 0x80)
    abnormal = bool(c & 0x40)
    if function not in FUNCTIONS or (abnormal and not from_meter):
        raise Reject("vendor_frame")
    t = frame[1]
    family = family_of(t)
    if family is None:
        raise Reject("vendor_frame")
    if family == "custom" or (family == "wildcard" and from_meter):
        raise Reject("unknown_type")
    if c & 0x20:
        raise Reject("unsupported_frame")

    address = frame[2:9]
    out = {
        "direction": "from_meter" if from_meter else "to_meter",
        "preamble_length": start,
        "meter": {
            "id": address[::-1].hex().upper(),
            "type": family,
            "type_code": t,
            "id_is_bcd": all(b >> 4 <= 9 and b & 0x0F <= 9 for b in address),
            "address_hex": address.hex().upper(),
        },
        "control": c,
        "function": FUNCTIONS[function],
        "abnormal": abnormal,
        "data_length": length,
        "checksum": frame[-2],
        "di": None, "di_order": None, "di_known": False, "ser": None,
        "readings": [], "meter_time": None, "clock": None, "status": None, "valve": None, "alarms": [],
    }
    body = frame[11:11 + length]

    if abnormal:
        if length < 1:
            raise Reject("bad_length")
        status_start = 0
        if length >= 4:
            matched = match_di(body[0], body[1])
            if matched:
                out["di"], out["di_order"] = "%04X" % matched[0], matched[1]
                out["di_known"] = True
                out["ser"] = body[2]
                status_start = 3
        out["frame_type"] = "abnormal"
        out["abnormal_status_hex"] = body[status_start:].hex().upper()
        return out

    if length < 3:
        raise Reject("bad_length")
    out["ser"] = body[2]
    payload = body[3:]
    matched = match_di(body[0], body[1])
    if matched is None:
        out["di"] = "%02X%02X" % (body[0], body[1])
        out["frame_type"] = "raw"
        out["payload_hex"] = payload.hex().upper()
        return out
    di, order = matched
    out["di"], out["di_order"], out["di_known"] = "%04X" % di, order, True
    if di_function(di) != function:
        out["frame_type"] = "raw"
        out["payload_hex"] = payload.hex().upper()
        return out

    if not from_meter:
        if function in (0x01, 0x03, 0x09):
            if payload:
                raise Reject("bad_length")
            out["frame_type"] = "request"
        elif function == 0x04 and di == 0xA017:
            if len(payload) != 1:
                raise Reject("bad_length")
            if payload[0] not in (0x55, 0x99):
                raise Reject("field_out_of_range")
            out["frame_type"] = "valve_command"
            out["valve_command"] = "open" if payload[0] == 0x55 else "close"
        elif function == 0x15:
            if len(payload) != 7:
                raise Reject("bad_length")
            out["frame_type"] = "new_address"
            out["new_address"] = payload[::-1].hex().upper()
        else:
            out["frame_type"] = "raw"
            out["payload_hex"] = payload.hex().upper()
        return out

    if di == 0x901F and family == "heat":
        if length != 46:
            raise Reject("unsupported_frame")
        settlement_heat = quantity(payload, 0, 2, "energy")
        current_heat = quantity(payload, 5, 2, "energy")
        power = quantity(payload, 10, 2, "power")
        flow = quantity(payload, 15, 4, "flow")
        volume = quantity(payload, 20, 2, "volume")
        temps = [bcd_le(payload, offset, 3) for offset in (25, 28, 31)]
        if any(value is None for value in temps):
            raise Reject("field_out_of_range")
        state, iso = clock(payload, 34)
        status, valve, alarms = status_fields(payload[41], payload[42])
        out.update({
            "frame_type": "heat_data",
            "readings": [
                reading("energy", current_heat, 0, None),
                reading("energy", settlement_heat, 1, "settlement_day_heat"),
                reading("power", power, 0, None),
                reading("flow", flow, 0, None),
                reading("volume", volume, 0, None),
                {"quantity": "supply_temperature", "value": decimal_text(temps[0], 2, 0), "unit": "degC",
                 "storage": 0},
                {"quantity": "return_temperature", "value": decimal_text(temps[1], 2, 0), "unit": "degC",
                 "storage": 0},
                {"quantity": "operating_time", "value": str(temps[2]), "unit": "h", "storage": 0},
            ],
            "heat": {"supply_temperature_centi_c": temps[0], "return_temperature_centi_c": temps[1],
                     "operating_hours": temps[2]},
            "clock": state, "meter_time": iso, "status": status, "valve": valve, "alarms": alarms,
        })
        return out
    if di == 0x901F:
        if length != 22:
            raise Reject("bad_length")
        current = quantity(payload, 0, 2, "volume")
        settlement = quantity(payload, 5, 2, "volume")
        state, iso = clock(payload, 10)
        status, valve, alarms = status_fields(payload[17], payload[18])
        out.update({
            "frame_type": "meter_data",
            "readings": [reading("volume", current, 0, None),
                         reading("volume", settlement, 1, "settlement_or_period_value")],
            "clock": state, "meter_time": iso, "status": status, "valve": valve, "alarms": alarms,
        })
        return out
    if di == 0x907F:
        if len(payload) != 7:
            raise Reject("bad_length")
        state, iso = clock(payload, 0)
        out.update({"frame_type": "clock", "clock": state, "meter_time": iso})
        return out
    if 0xD120 <= di <= 0xD12B and family != "heat":
        if len(payload) != 5:
            raise Reject("bad_length")
        months = di - 0xD120 + 1
        volume = quantity(payload, 0, 2, "volume")
        out.update({"frame_type": "settlement_history", "months_ago": months,
                    "readings": [reading("volume", volume, months, "settlement_day_volume")]})
        return out
    if di == 0x810A:
        if len(payload) == 0:
            out.update({"frame_type": "address_reply", "reported_address": None})
            return out
        if len(payload) == 7:
            if payload != address:
                raise Reject("field_out_of_range")
            out.update({"frame_type": "address_reply", "reported_address": payload[::-1].hex().upper()})
            return out
        raise Reject("bad_length")
    if di == 0xA017:
        if len(payload) not in (1, 2):
            raise Reject("bad_length")
        st2 = payload[1] if len(payload) == 2 else 0
        status, valve, alarms = status_fields(payload[0], st2)
        out.update({"frame_type": "valve_status", "status_bytes": len(payload), "status": status, "valve": valve,
                    "alarms": alarms})
        return out
    out["frame_type"] = "raw"
    out["payload_hex"] = payload.hex().upper()
    return out


# ---------------------------------------------------------------------------------------------------------------
# Frame building

def address_bytes(label):
    """The 7 wire bytes A0..A6 of a 14-digit label (most significant digit first)."""
    assert len(label) == 14
    return bytes.fromhex(label)[::-1]


def bcd(value, count):
    """count BCD bytes of value, least significant byte first."""
    digits = str(value).rjust(2 * count, "0")
    assert len(digits) == 2 * count
    return bytes.fromhex(digits)[::-1]


def clock_bytes(year, month, day, hour, minute, second):
    return bytes.fromhex("%02d%02d%02d%02d%02d%02d%02d" % (second, minute, hour, day, month, year % 100,
                                                          year // 100))


def build(t, address, c, data, preamble=3, length=None, cs=None, end=0x16):
    """A frame: preamble, 68, T, A0..A6 (7 bytes), C, L, data, CS, 16."""
    body = bytes([0x68, t]) + address + bytes([c, len(data) if length is None else length]) + data
    return bytes([0xFE] * preamble) + body + bytes([checksum(body) if cs is None else cs, end])


def di_bytes(di, order):
    high, low = di >> 8, di & 0xFF
    return bytes([high, low]) if order == "big_endian" else bytes([low, high])


def meter_data(current, current_unit, settlement, settlement_unit, clock_field, st1, st2):
    return bcd(current, 4) + bytes([current_unit]) + bcd(settlement, 4) + bytes([settlement_unit]) + clock_field + \
        bytes([st1, st2])


GAS = 0x30
WATER = 0x10
HOT_WATER = 0x11
HEAT = 0x20
GAS_ADDRESS = address_bytes("78330011223344")
GAS_ADDRESS_2 = address_bytes("20250000004711")
CLOCK_2015 = clock_bytes(2015, 5, 11, 22, 1, 31)
CLOCK_2026 = clock_bytes(2026, 11, 23, 8, 0, 0)
ZERO_CLOCK = bytes(7)


def reply_901f(order="little_endian", t=GAS, address=GAS_ADDRESS, ser=0x00, current=55667700, current_unit=0x2C,
               settlement=12345, settlement_unit=0x2C, clock_field=CLOCK_2015, st1=0, st2=0, preamble=3):
    data = di_bytes(0x901F, order) + bytes([ser]) + meter_data(current, current_unit, settlement, settlement_unit,
                                                               clock_field, st1, st2)
    return build(t, address, 0x81, data, preamble=preamble)


def heat_payload(settlement_heat=123456, settlement_heat_unit=0x05, current_heat=1234, current_heat_unit=0x08,
                 power=350, power_unit=0x17, flow=1234, flow_unit=0x35, volume=56789, volume_unit=0x2C,
                 supply=4567, return_temperature=3890, hours=12345, clock_field=clock_bytes(2024, 1, 31, 23, 59, 58),
                 st1=0x04, st2=0x00):
    return bcd(settlement_heat, 4) + bytes([settlement_heat_unit]) + bcd(current_heat, 4) + \
        bytes([current_heat_unit]) + bcd(power, 4) + bytes([power_unit]) + bcd(flow, 4) + bytes([flow_unit]) + \
        bcd(volume, 4) + bytes([volume_unit]) + bcd(supply, 3) + bcd(return_temperature, 3) + bcd(hours, 3) + \
        clock_field + bytes([st1, st2])


HEAT_ADDRESS = address_bytes("00000040314132")

# ---------------------------------------------------------------------------------------------------------------
# Vectors

VALID = []
MALFORMED = []
DOWNLINKS = []


def valid(name, description, frame, source="generated", stated=None, checks=None):
    status, result = reference_decode(frame)
    assert status == "ok", (name, result)
    if checks:
        for key, want in checks.items():
            got = result
            for part in key.split("."):
                got = got[int(part)] if isinstance(got, list) else got[part]
            assert got == want, (name, key, got, want)
    entry = {"name": name, "description": description, "source": source, "hex": frame.hex().upper()}
    if stated is not None:
        entry["stated"] = stated
    entry["expected"] = result
    VALID.append(entry)
    return frame


def malformed(name, description, frame, error, corpus=True):
    status, result = reference_decode(frame)
    assert status == "error" and result == error, (name, status, result, error)
    MALFORMED.append({"name": name, "description": description, "hex": frame.hex().upper(), "error": error,
                      "corpus": corpus})


def add_public():
    for example in PUBLIC_EXAMPLES:
        frame = bytes.fromhex(example["frame_hex"])
        checks = {}
        note = None
        if example["name"] == "cjt188-read-request":
            checks = {"meter.id": "78330011223344", "di": "901F", "di_order": "little_endian", "ser": 0,
                      "function": "read_data", "data_length": 3, "checksum": 0x80, "frame_type": "request"}
        elif example["name"] == "cjt188-valve-open-request":
            checks = {"meter.id": "78331505900569", "di": "A017", "di_order": "big_endian", "ser": 1,
                      "valve_command": "open", "data_length": 4}
        elif example["name"] == "cjt188-valve-response":
            checks = {"di": "A017", "di_order": "big_endian", "ser": 1, "status.raw": 0, "valve": "open",
                      "control": 0x84, "data_length": 5, "status_bytes": 2}
        elif example["name"] == "cjt188-read-address-response":
            checks = {"meter.id": "00000000000012", "control": 0x83, "di": "810A", "di_order": "big_endian",
                      "ser": 0, "checksum": 0x9B, "frame_type": "address_reply", "reported_address": None}
        elif example["name"] == "cjt188-read-data-response":
            checks = {"meter.type_code": 0x10, "meter.id": "00000000000012", "control": 0x81, "di": "901F",
                      "di_order": "big_endian", "readings.0.value": "1000.10", "readings.1.value": "1000.10",
                      "readings.0.unit_code": 0x2C, "clock": "not_set", "meter_time": None, "status.st1": 0,
                      "status.st2": 0xFF}
            note = "current_volume_m3 1000.1 = wire 10 00 10 00 read least significant byte first, 2 decimals"
        description = example["title"]
        if note:
            description += "; " + note
        valid(example["name"], description, frame, source="public-examples.json: " + example["source"],
              stated=example["expected"], checks=checks)


def add_own_valid():
    # 901F replies in both DI orders; the worked example of protocols.md section 1.7.
    valid("gas-901f-reply-little-endian", "Gas meter 901F reply, DI sent 1F 90, 556677.00 m3, clock 2015-05-11",
          reply_901f(), checks={"readings.0.value": "556677.00", "readings.0.millilitres": "556677000000",
                                "readings.1.value": "123.45", "meter_time": "2015-05-11T22:01:31",
                                "di_order": "little_endian", "meter.type": "gas"})
    valid("gas-901f-reply-big-endian", "Gas meter 901F reply, DI sent 90 1F, valve closed (ST1 D0), no preamble",
          reply_901f(order="big_endian", address=GAS_ADDRESS_2, ser=0x2A, current=123456789 % 100000000,
                     settlement=23456700, clock_field=CLOCK_2026, st1=0x01, preamble=0),
          checks={"di_order": "big_endian", "valve": "closed", "readings.0.value": "234567.89",
                  "meter_time": "2026-11-23T08:00:00", "preamble_length": 0})
    # Every volume unit class; the settlement value keeps its own unit.
    for unit, text in ((0x29, "123.45678"), (0x2A, "1234.5678"), (0x2B, "12345.678"), (0x2C, "123456.78"),
                       (0x2D, "1234567.8"), (0x2E, "12345678")):
        valid("gas-901f-unit-%02x" % unit, "Gas 901F reply, current volume 12345678 raw in unit %02XH" % unit,
              reply_901f(current=12345678, current_unit=unit, settlement=100, settlement_unit=0x2C),
              checks={"readings.0.value": text, "readings.0.unit": "m3", "readings.1.value": "1.00"})
    valid("gas-901f-mixed-units", "Gas 901F reply: current in m3 (2C), settlement in litres x100 (2B)",
          reply_901f(current=99999999, current_unit=0x2C, settlement=99999999, settlement_unit=0x2B),
          checks={"readings.0.value": "999999.99", "readings.1.value": "99999.999",
                  "readings.1.millilitres": "99999999000"})
    valid("gas-901f-zero-volume", "Gas 901F reply with both volumes 0", reply_901f(current=0, settlement=0),
          checks={"readings.0.value": "0.00", "readings.0.millilitres": "0"})
    # Clock states.
    valid("gas-901f-clock-not-set", "Gas 901F reply, clock all zero = no clock",
          reply_901f(clock_field=ZERO_CLOCK), checks={"clock": "not_set", "meter_time": None})
    valid("gas-901f-clock-not-bcd", "Gas 901F reply, clock minutes 5A (not BCD) = clock invalid, reading kept",
          reply_901f(clock_field=bytes.fromhex("315A2211051520")), checks={"clock": "invalid", "meter_time": None})
    valid("gas-901f-clock-binary", "Gas 901F reply, clock sent in binary (1F = 31 s) = clock invalid",
          reply_901f(clock_field=bytes([0x1F, 0x01, 0x16, 0x0B, 0x05, 0x0F, 0x14])),
          checks={"clock": "invalid"})
    valid("gas-901f-clock-bad-date", "Gas 901F reply, BCD clock 2015-02-30 = clock invalid",
          reply_901f(clock_field=clock_bytes(2015, 2, 30, 12, 0, 0)), checks={"clock": "invalid"})
    valid("gas-901f-clock-month-13", "Gas 901F reply, BCD clock month 13 = clock invalid",
          reply_901f(clock_field=bytes.fromhex("00000001131520")), checks={"clock": "invalid"})
    valid("gas-901f-clock-leap-day", "Gas 901F reply, clock 2024-02-29 (leap day) is valid",
          reply_901f(clock_field=clock_bytes(2024, 2, 29, 0, 0, 0)), checks={"meter_time": "2024-02-29T00:00:00"})
    # Status bits.
    valid("gas-901f-status-alarms", "Gas 901F reply, ST1 07 (closed, abnormal, battery low), ST2 81",
          reply_901f(st1=0x07, st2=0x81),
          checks={"valve": "fault", "status.raw": 0x8107,
                  "status.bits": ["valve_closed", "valve_abnormal", "battery_low", "st2_bit0", "st2_bit7"]})
    valid("gas-901f-status-vendor-bits", "Gas 901F reply, ST1 F8 (vendor bits D3-D7 only), valve open",
          reply_901f(st1=0xF8, st2=0x00), checks={"valve": "open", "alarms": []})
    valid("gas-901f-battery-low", "Gas 901F reply, battery low only", reply_901f(st1=0x04),
          checks={"alarms": [{"condition": "battery_low", "source": "battery_low", "priority": "P3"}]})
    # Water meters.
    valid("hot-water-901f-reply", "Hot water meter (T=11) 901F reply, DI 1F 90",
          reply_901f(t=HOT_WATER, address=address_bytes("12345678901234")), checks={"meter.type": "water"})
    valid("gas-type-39-901f-reply", "Gas family member T=39 is a gas meter", reply_901f(t=0x39),
          checks={"meter.type": "gas", "meter.type_code": 0x39})
    # Heat meter, 46-byte layout.
    valid("heat-901f-reply", "Heat meter (T=20) 901F reply, 46-byte layout, battery low",
          build(HEAT, HEAT_ADDRESS, 0x81, di_bytes(0x901F, "big_endian") + bytes([0x01]) + heat_payload()),
          checks={"readings.0.value": "12.34", "readings.0.unit": "MWh", "readings.1.value": "1234.56",
                  "readings.1.unit": "kWh", "readings.2.value": "3.50", "readings.2.unit": "kW",
                  "readings.3.value": "0.1234", "readings.3.unit": "m3/h", "readings.4.value": "567.89",
                  "readings.5.value": "45.67", "readings.6.value": "38.90", "readings.7.value": "12345",
                  "meter_time": "2024-01-31T23:59:58", "data_length": 46})
    valid("heat-901f-reply-scaled-units", "Heat 901F reply, GJ x100, MW x10, L/h x10, L x100, DI 1F 90",
          build(0x21, HEAT_ADDRESS, 0x81, di_bytes(0x901F, "little_endian") + bytes([0x02]) +
                heat_payload(settlement_heat_unit=0x13, current_heat_unit=0x11, power_unit=0x1B, flow_unit=0x33,
                             volume_unit=0x2B, st1=0x00)),
          checks={"readings.1.value": "123456", "readings.1.unit": "GJ", "readings.2.value": "35.0",
                  "readings.3.value": "0.001234", "readings.4.value": "56.789"})
    valid("heat-read-request-jy", "JY heat meter read request (DI 90 1F), cnblogs.com/llguanli/p/8683992.html",
          bytes.fromhex("FEFEFEFE6820324131400000000103901F012016"),
          source="https://www.cnblogs.com/llguanli/p/8683992.html",
          checks={"meter.type": "heat", "di_order": "big_endian", "meter.id": "00000040314132"})
    # Other read replies.
    valid("gas-907f-clock-reply", "Gas meter 907F (clock) reply, DI sent 7F 90",
          build(GAS, GAS_ADDRESS, 0x81, di_bytes(0x907F, "little_endian") + bytes([0x05]) + CLOCK_2026),
          checks={"frame_type": "clock", "meter_time": "2026-11-23T08:00:00"})
    valid("gas-d120-history-reply", "Gas meter D120 reply: last settlement day volume (storage 1)",
          build(GAS, GAS_ADDRESS, 0x81, di_bytes(0xD120, "big_endian") + bytes([0x06]) + bcd(4455, 4) + b"\x2C"),
          checks={"months_ago": 1, "readings.0.storage": 1, "readings.0.value": "44.55"})
    valid("gas-d12b-history-reply", "Gas meter D12B reply sent 2B D1: 12 settlement days ago (storage 12)",
          build(GAS, GAS_ADDRESS, 0x81, di_bytes(0xD12B, "little_endian") + bytes([0x07]) + bcd(1, 4) + b"\x2D"),
          checks={"months_ago": 12, "readings.0.value": "0.1", "di_order": "little_endian"})
    valid("gas-8103-settlement-day-raw", "Gas meter 8103 (settlement day) reply: known DI, layout kept raw",
          build(GAS, GAS_ADDRESS, 0x81, di_bytes(0x8103, "big_endian") + bytes([0x08, 0x25])),
          checks={"frame_type": "raw", "payload_hex": "25", "di_known": True})
    valid("gas-unknown-di-raw", "Gas meter reply with an unknown DI (D2 05): envelope decoded, DI and payload raw",
          build(GAS, GAS_ADDRESS, 0x81, bytes([0xD2, 0x05, 0x09]) + bcd(4455, 4) + b"\x2C"),
          checks={"frame_type": "raw", "di": "D205", "di_order": None, "di_known": False, "readings": []})
    valid("gas-known-di-wrong-function-raw", "DI 901F under write data (C=84): no layout applies, kept raw",
          build(GAS, GAS_ADDRESS, 0x84, di_bytes(0x901F, "big_endian") + bytes([0x01, 0x00])),
          checks={"frame_type": "raw", "readings": []})
    valid("gas-max-length-raw", "Reply with L = 255 (largest frame), unknown DI",
          build(GAS, GAS_ADDRESS, 0x81, bytes([0x12, 0x34, 0x00]) + bytes(range(252))),
          checks={"data_length": 255})
    # Requests.
    valid("gas-read-request-big-endian", "Gas read data request, DI 90 1F, SER 07, no preamble",
          build(GAS, GAS_ADDRESS, 0x01, di_bytes(0x901F, "big_endian") + b"\x07", preamble=0),
          checks={"frame_type": "request", "direction": "to_meter"})
    valid("gas-read-request-long-preamble", "Gas read data request after 8 FE bytes",
          build(GAS, GAS_ADDRESS, 0x01, di_bytes(0x901F, "little_endian") + b"\x00", preamble=8),
          checks={"preamble_length": 8})
    valid("gas-valve-close-request", "Gas valve close request, DI A0 17, SER 02, 99",
          build(GAS, GAS_ADDRESS, 0x04, di_bytes(0xA017, "big_endian") + b"\x02\x99"),
          checks={"valve_command": "close"})
    valid("gas-valve-open-request-little-endian", "Gas valve open request, DI sent 17 A0",
          build(GAS, GAS_ADDRESS, 0x04, di_bytes(0xA017, "little_endian") + b"\x03\x55"),
          checks={"valve_command": "open", "di_order": "little_endian"})
    valid("read-address-broadcast-request", "Read address broadcast: T=AA, address AA..AA, DI 81 0A",
          build(0xAA, b"\xAA" * 7, 0x03, di_bytes(0x810A, "big_endian") + b"\x00"),
          checks={"meter.type": "wildcard", "checksum": 0x49, "meter.id_is_bcd": False})
    valid("gas-write-address-request", "Write address request (C=15, DI A0 18) with the new address",
          build(0xAA, b"\xAA" * 7, 0x15, di_bytes(0xA018, "big_endian") + b"\x00" + GAS_ADDRESS_2),
          checks={"frame_type": "new_address", "new_address": "20250000004711"})
    valid("gas-sync-request-raw", "Machine-electrical sync request (C=16, DI A0 16): payload kept raw",
          build(GAS, GAS_ADDRESS, 0x16, di_bytes(0xA016, "big_endian") + b"\x01" + bcd(4455, 4) + b"\x2C"),
          checks={"frame_type": "raw", "function": "synchronize"})
    valid("gas-non-bcd-address", "Read request to a simulator address with a non-BCD byte (A0 = 5A)",
          build(GAS, bytes.fromhex("5A000000000000"), 0x01, di_bytes(0x901F, "big_endian") + b"\x00"),
          checks={"meter.id": "0000000000005A", "meter.id_is_bcd": False})
    # Replies to valve control and read address.
    valid("gas-valve-reply-closed-one-byte", "Valve reply with one status byte: 01 = closed",
          build(GAS, GAS_ADDRESS, 0x84, di_bytes(0xA017, "big_endian") + b"\x02\x01"),
          checks={"valve": "closed", "status_bytes": 1})
    valid("gas-valve-reply-abnormal", "Valve reply 03 00: valve abnormal (fault)",
          build(GAS, GAS_ADDRESS, 0x84, di_bytes(0xA017, "big_endian") + b"\x02\x03\x00"),
          checks={"valve": "fault", "alarms": [{"condition": "valve_fault", "source": "valve_abnormal",
                                                "priority": "P1"}]})
    valid("gas-read-address-reply-with-body", "Read address reply carrying the address after SER (L=10)",
          build(GAS, GAS_ADDRESS, 0x83, di_bytes(0x810A, "big_endian") + b"\x00" + GAS_ADDRESS),
          checks={"reported_address": "78330011223344"})
    # Abnormal replies.
    valid("gas-abnormal-reply-status-only", "Abnormal reply to read data (C=C1), one status byte",
          build(GAS, GAS_ADDRESS, 0xC1, b"\x01"), checks={"abnormal_status_hex": "01", "di": None})
    valid("gas-abnormal-reply-with-di", "Abnormal reply to valve control (C=C4): DI, SER, status",
          build(GAS, GAS_ADDRESS, 0xC4, di_bytes(0xA017, "big_endian") + b"\x02\x11"),
          checks={"abnormal_status_hex": "11", "di": "A017", "ser": 2})


def add_malformed():
    good = reply_901f()
    # Framing.
    malformed("empty", "No bytes", b"", "truncated")
    malformed("preamble-only", "FE FE FE and nothing else", b"\xFE\xFE\xFE", "truncated")
    malformed("garbage-before-start", "A byte other than FE before the 68", b"\x00" + good[3:], "bad_frame")
    malformed("wrong-start-byte", "69 instead of 68", b"\xFE\x69" + good[4:], "bad_frame")
    malformed("twelve-bytes", "12 bytes after the preamble", good[3:15], "truncated")
    malformed("end-byte-wrong", "Last byte 17 instead of 16", good[:-1] + b"\x17", "bad_frame")
    malformed("trailing-byte", "One extra byte after the 16", good + b"\x00", "bad_length")
    malformed("trailing-crlf", "CR LF after the 16", good + b"\x0D\x0A", "bad_length")
    malformed("bad-checksum", "Valid envelope, checksum off by one", good[:-2] + bytes([(good[-2] + 1) % 256, 0x16]),
              "bad_checksum")
    malformed("bad-checksum-public-read-request", "The public read request with CS 81 instead of 80",
              bytes.fromhex("FEFEFEFE68104433221100337801031F90008116"), "bad_checksum")
    too_large = build(GAS, GAS_ADDRESS, 0x81, good[14:-2], preamble=0, length=23)
    malformed("length-too-large", "L says 23, 22 data bytes follow (checksum wrong)",
              too_large[:-2] + bytes([(too_large[-2] + 1) % 256, 0x16]), "truncated")
    too_small = build(GAS, GAS_ADDRESS, 0x81, good[14:-2], preamble=0, length=21)
    malformed("length-too-small", "L says 21, 22 data bytes follow (checksum wrong)",
              too_small[:-2] + bytes([(too_small[-2] + 1) % 256, 0x16]), "bad_length")
    malformed("length-mismatch-valid-envelope", "L says 23, 22 data bytes follow, but the checksum over all bytes "
              "holds: the length byte is foreign, a vendor frame", too_large, "vendor_frame")
    # Truncations at every length of a gas 901F reply and of the public valve reply.
    for frame, label in ((good, "gas-901f"), (bytes.fromhex(PUBLIC_EXAMPLES[2]["frame_hex"]), "valve-reply")):
        for size in range(len(frame)):
            status, code = reference_decode(frame[:size])
            malformed("truncated-%s-%02d" % (label, size), "The first %d bytes of %s" % (size, label), frame[:size],
                      code, corpus=size in (0, 3, 10, 14, len(frame) - 1))
    # Control code and meter type.
    malformed("unknown-function", "C=82: function 02 is not a CJ/T 188 function",
              build(GAS, GAS_ADDRESS, 0x82, good[14:-2]), "vendor_frame")
    malformed("abnormal-bit-on-request", "C=41: D6 set on a request", build(GAS, GAS_ADDRESS, 0x41, b"\x1F\x90\x00"),
              "vendor_frame")
    malformed("type-outside-ranges", "T=55 is outside every CJ/T 188 range", reply_901f(t=0x55), "vendor_frame")
    malformed("type-user-defined", "T=40 (user-defined range)", reply_901f(t=0x40), "unknown_type")
    malformed("wildcard-type-reply", "A reply with the wildcard type AA", reply_901f(t=0xAA), "unknown_type")
    malformed("follow-up-frame", "C=A1: follow-up bit D5 set", build(GAS, GAS_ADDRESS, 0xA1, good[14:-2]),
              "unsupported_frame")
    # Vendor push frames (protocols.md section 1.12): C 97 at offset 10, L at offset 15.
    payload = bcd(55667700, 4) + b"\x2C" + bytes.fromhex("260515220131") + bytes.fromhex("0E10") + b"\x00\x00"
    cat1 = bytes([0x68, 0x10]) + GAS_ADDRESS + bytes([0x01, 0x97, 0x00, 0x01, 0x00, 0x02, len(payload)]) + payload
    cat1 = cat1 + bytes([checksum(cat1), 0x16])
    malformed("vendor-cat1-push", "Cat-1 push (C=97 at offset 10, L at offset 15), checksum valid",
              b"\xFE\xFE" + cat1, "vendor_frame")
    malformed("vendor-cat1-push-bad-checksum", "Cat-1 push shape with a wrong checksum is still a vendor frame",
              cat1[:-2] + bytes([(cat1[-2] + 7) % 256, 0x16]), "vendor_frame")
    ack = bytes([0x68, 0x10]) + GAS_ADDRESS + bytes([0x01, 0x17, 0x00, 0x01, 0x00, 0x02, 0x01, 0xAF])
    ack = ack + bytes([checksum(ack), 0x16])
    malformed("vendor-cat1-server-ack", "Cat-1 server acknowledgement (C=17, power-off flag AF)", ack, "vendor_frame")
    envelope = bytes([0x68, 0x30]) + GAS_ADDRESS + bytes([0x81, 0x40]) + bytes.fromhex("901F00") + \
        meter_data(100, 0x2C, 100, 0x2C, CLOCK_2015, 0, 0) + bytes.fromhex("0102030405")
    envelope = envelope + bytes([checksum(envelope), 0x16])
    malformed("vendor-envelope-length-mismatch",
              "68 ... CS 16 with a valid checksum but L (40H) does not fit: a vendor layout, not a reading",
              envelope, "vendor_frame")
    dlt645 = bytes.fromhex("68AAAAAAAAAAAA68110433333433")
    dlt645 = dlt645 + bytes([checksum(dlt645), 0x16])
    malformed("vendor-dlt645-frame", "A DL/T 645 electricity read request (68 A0..A5 68 C L DATA CS 16)",
              b"\xFE\xFE\xFE\xFE" + dlt645, "vendor_frame")
    # Data field lengths.
    malformed("901f-reply-short", "901F reply with L=21 (status byte missing), checksum valid",
              build(GAS, GAS_ADDRESS, 0x81, good[14:-3]), "bad_length")
    malformed("901f-reply-long", "901F reply with L=23 (one vendor byte appended)",
              build(GAS, GAS_ADDRESS, 0x81, good[14:-2] + b"\x00"), "bad_length")
    malformed("reply-without-ser", "Reply with L=2 (DI only)", build(GAS, GAS_ADDRESS, 0x81, b"\x1F\x90"),
              "bad_length")
    malformed("reply-empty-data", "Reply with L=0", build(GAS, GAS_ADDRESS, 0x81, b""), "bad_length")
    malformed("abnormal-reply-empty", "Abnormal reply with no status byte", build(GAS, GAS_ADDRESS, 0xC1, b""),
              "bad_length")
    malformed("read-request-extra-byte", "Read data request with a byte after SER",
              build(GAS, GAS_ADDRESS, 0x01, b"\x1F\x90\x00\x00"), "bad_length")
    malformed("valve-request-two-commands", "Valve request with two command bytes",
              build(GAS, GAS_ADDRESS, 0x04, b"\xA0\x17\x01\x99\x99"), "bad_length")
    malformed("valve-reply-no-status", "Valve reply with no status byte",
              build(GAS, GAS_ADDRESS, 0x84, b"\xA0\x17\x01"), "bad_length")
    malformed("valve-reply-three-status-bytes", "Valve reply with three status bytes",
              build(GAS, GAS_ADDRESS, 0x84, b"\xA0\x17\x01\x00\x00\x00"), "bad_length")
    malformed("clock-reply-short", "907F reply with 6 clock bytes",
              build(GAS, GAS_ADDRESS, 0x81, b"\x90\x7F\x00" + CLOCK_2015[:6]), "bad_length")
    malformed("history-reply-short", "D120 reply without its unit byte",
              build(GAS, GAS_ADDRESS, 0x81, b"\xD1\x20\x00" + bcd(1, 4)), "bad_length")
    malformed("address-reply-short", "810A reply with 6 address bytes",
              build(GAS, GAS_ADDRESS, 0x83, b"\x81\x0A\x00" + GAS_ADDRESS[:6]), "bad_length")
    malformed("write-address-short", "Write address request with 6 address bytes",
              build(0xAA, b"\xAA" * 7, 0x15, b"\xA0\x18\x00" + GAS_ADDRESS[:6]), "bad_length")
    # Field values.
    malformed("valve-request-bad-command", "Valve request command 11 (only 55 and 99 exist)",
              build(GAS, GAS_ADDRESS, 0x04, b"\xA0\x17\x01\x11"), "field_out_of_range")
    bad = bytearray(reply_901f())
    bad[17] = 0x7A  # current volume second byte (77 -> 7A)
    bad[-2] = checksum(bad[3:-2])
    malformed("901f-current-volume-not-bcd", "901F reply, current volume byte 7A: never coerced, rejected",
              bytes(bad), "field_out_of_range")
    bad = bytearray(reply_901f())
    bad[24] = 0xF0  # settlement volume most significant byte
    bad[-2] = checksum(bad[3:-2])
    malformed("901f-settlement-volume-not-bcd", "901F reply, settlement volume byte F0", bytes(bad),
              "field_out_of_range")
    malformed("901f-unit-energy", "901F gas reply with unit 05 (kWh) on the volume",
              reply_901f(current_unit=0x05), "field_out_of_range")
    malformed("901f-unit-unknown", "901F gas reply with unit 00", reply_901f(settlement_unit=0x00),
              "field_out_of_range")
    malformed("history-not-bcd", "D120 reply with a non-BCD volume",
              build(GAS, GAS_ADDRESS, 0x81, b"\xD1\x20\x00\x0A\x00\x00\x00\x2C"), "field_out_of_range")
    malformed("address-reply-mismatch", "810A reply whose body address differs from the header",
              build(GAS, GAS_ADDRESS, 0x83, b"\x81\x0A\x00" + GAS_ADDRESS_2), "field_out_of_range")
    malformed("heat-901f-short-layout", "Heat 901F reply with the 43-byte layout of one driver",
              build(HEAT, HEAT_ADDRESS, 0x81, b"\x90\x1F\x01" + heat_payload()[:40]), "unsupported_frame")
    malformed("heat-901f-not-bcd-temperature", "Heat 901F reply, supply temperature byte AA",
              build(HEAT, HEAT_ADDRESS, 0x81, b"\x90\x1F\x01" + heat_payload()[:25] + b"\xAA" +
                    heat_payload()[26:]), "field_out_of_range")
    malformed("heat-901f-wrong-unit-kind", "Heat 901F reply, power given in m3 (2C)",
              build(HEAT, HEAT_ADDRESS, 0x81, b"\x90\x1F\x01" + heat_payload(power_unit=0x2C)),
              "field_out_of_range")
    malformed("heat-901f-jy-unit-first", "JY heat meter reply that puts each unit before its value "
              "(cnblogs.com/llguanli/p/8683992.html): checksum valid, rejected, never misread",
              bytes.fromhex("FE FE FE FE 68 20 32 41 31 40 00 00 00 81 2E 90 1F 01 08 02 00 00 00 08 02 00 00 00 "
                            "17 00 00 00 00 35 00 00 00 00 2C 34 10 00 00 35 25 00 66 25 00 00 00 00 53 00 12 10 "
                            "07 15 20 00 00 31 16"), "field_out_of_range")


def add_downlinks():
    cases = [
        ("read-data-gas-big-endian-preamble-3", "read_data", GAS, "78330011223344", 0x00, "big_endian", 3),
        ("read-data-gas-little-endian-no-preamble", "read_data", GAS, "78330011223344", 0x07, "little_endian", 0),
        ("read-data-water-public", "read_data", WATER, "78330011223344", 0x00, "little_endian", 4),
        ("valve-close-gas-big-endian", "valve_close", GAS, "20250000004711", 0x02, "big_endian", 3),
        ("valve-close-gas-little-endian", "valve_close", GAS, "20250000004711", 0x02, "little_endian", 3),
        ("valve-open-water-public", "valve_open", WATER, "78331505900569", 0x01, "big_endian", 4),
        ("read-address-broadcast", "read_address", 0xAA, None, 0x00, "big_endian", 3),
    ]
    for name, request, t, label, ser, order, preamble in cases:
        address = b"\xAA" * 7 if label is None else address_bytes(label)
        if request == "read_data":
            frame = build(t, address, 0x01, di_bytes(0x901F, order) + bytes([ser]), preamble=preamble)
        elif request == "read_address":
            frame = build(t, address, 0x03, di_bytes(0x810A, order) + bytes([ser]), preamble=preamble)
        else:
            command = 0x99 if request == "valve_close" else 0x55
            frame = build(t, address, 0x04, di_bytes(0xA017, order) + bytes([ser, command]), preamble=preamble)
        assert reference_decode(frame)[0] == "ok"
        DOWNLINKS.append({"name": name, "request": request, "meter_type": t,
                          "address": "AAAAAAAAAAAAAA" if label is None else label, "ser": ser, "di_order": order,
                          "preamble_length": preamble, "hex": frame.hex().upper()})
    public = {d["name"]: d["hex"] for d in DOWNLINKS}
    assert public["read-data-water-public"] == PUBLIC_EXAMPLES[0]["frame_hex"]
    assert public["valve-open-water-public"] == PUBLIC_EXAMPLES[1]["frame_hex"]


def main():
    add_public()
    add_own_valid()
    add_malformed()
    add_downlinks()
    names = [v["name"] for v in VALID] + [m["name"] for m in MALFORMED] + [d["name"] for d in DOWNLINKS]
    assert len(names) == len(set(names)), "duplicate vector names"
    document = {
        "about": "Golden vectors of the CJ/T 188 decoder and encoder (firmware-protocols/cjt188.md). Generated by "
                 "tools/gen_cjt188_vectors.py with its own reference decoder, independently of the Swift code. "
                 "Hex is upper case without separators. 'valid' frames list the decoded fields ('stated' holds the "
                 "values a public source states, verbatim); 'malformed' frames list the error code; 'downlinks' are "
                 "requests the encoder must produce byte for byte. Volumes: 'value' is the exact decimal text in "
                 "'unit', 'millilitres' a decimal string.",
        "valid": VALID,
        "malformed": [{k: v for k, v in m.items() if k != "corpus"} for m in MALFORMED],
        "downlinks": DOWNLINKS,
    }
    with open(os.path.join(ROOT, "cjt188-vectors.json"), "w") as out:
        json.dump(document, out, indent=1)
        out.write("\n")

    corpus = os.path.join(ROOT, "corpus", "cjt188")
    os.makedirs(corpus, exist_ok=True)
    for old in os.listdir(corpus):
        os.remove(os.path.join(corpus, old))
    for entry in VALID:
        frame = bytes.fromhex(entry["hex"])
        with open(os.path.join(corpus, entry["name"] + ".bin"), "wb") as out:
            out.write(b"\x01" + frame)
        with open(os.path.join(corpus, entry["name"] + ".reseal.bin"), "wb") as out:
            out.write(b"\x81" + frame)
    for entry in MALFORMED:
        if entry["corpus"]:
            with open(os.path.join(corpus, entry["name"] + ".bin"), "wb") as out:
                out.write(b"\x01" + bytes.fromhex(entry["hex"]))
    for entry in DOWNLINKS:
        with open(os.path.join(corpus, "downlink-" + entry["name"] + ".bin"), "wb") as out:
            out.write(b"\x01" + bytes.fromhex(entry["hex"]))
    print("%d valid, %d malformed, %d downlinks" % (len(VALID), len(MALFORMED), len(DOWNLINKS)))


if __name__ == "__main__":
    main()
