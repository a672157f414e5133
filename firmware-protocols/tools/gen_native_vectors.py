#!/usr/bin/env python3
"""Generates the golden vectors of the native protocol v1 (firmware-protocols/native-v1.md).

This is an implementation independent of the Swift encoder: frames are laid out with `struct`, the MAC is
AES-CMAC from the `cryptography` package truncated to 8 bytes, the CRC is a bitwise CRC-16/CCITT-FALSE written
here, and every expected value (decimal volumes, millilitres, interval end indexes, alarm priorities) is computed
in Python from the inputs. The Swift tests decode the frames and compare.

Usage (from the repository root):
    python3 firmware-protocols/tools/gen_native_vectors.py

Writes firmware-protocols/native-v1-vectors.json and the fuzzing seed corpus firmware-protocols/corpus/native/.
Output is deterministic: running it twice gives identical files.
"""

import calendar
import json
import os
import struct
from decimal import Decimal

from cryptography.hazmat.primitives.cmac import CMAC
from cryptography.hazmat.primitives.ciphers import algorithms

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The fuzzer's fixed test key (Sources/FrameFuzzer/FuzzEntry.swift) is KEY_A.
KEY_A = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
KEY_B = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
KEY_WRONG = bytes.fromhex("FFEEDDCCBBAA99887766554433221100")

METER_A = 1000001
METER_MAX = 0xFFFFFFFFFFFFFFFF

ACK_REQUESTED = 0x01
RETRANSMISSION = 0x02

STATUS_NAMES = [
    "valve_shut_by_meter", "battery_low", "battery_lock", "magnetic_interference", "tilt_or_removal",
    "clock_invalid", "leak_suspected", "over_flow", "pressure_low", "valve_fault", "methane_detector_active",
    "reverse_flow", "cover_open",
] + ["bit%d" % i for i in range(13, 32)]

ALARM_CONDITIONS = {
    0x0001: "methane_detector", 0x0002: "over_flow", 0x0003: "continuous_flow_timeout",
    0x0004: "tiny_flow_leak", 0x0005: "uncontrolled_flow_after_reopen", 0x0006: "flow_with_valve_closed",
    0x0007: "tilt_or_removal", 0x0008: "magnetic_attack", 0x0009: "seismic_shut_off", 0x000A: "pressure_low",
    0x000B: "valve_fault", 0x000C: "battery_low", 0x000D: "battery_lock", 0x000E: "clock_fault",
}

VALVE_NAMES = {0: "open", 1: "closed", 2: "moving", 3: "fault", 0xFF: "unknown"}
TYPE_NAMES = {0x01: "reading", 0x02: "daily_report", 0x03: "alarm", 0x04: "command_result", 0x81: "ack",
              0x82: "valve_command", 0x83: "parameter_update"}
PARAM_NAMES = {1: "reporting_interval_minutes", 2: "continuous_flow_timeout_minutes", 3: "over_flow_threshold_ml_h",
               4: "tiny_flow_threshold_ml_h", 5: "no_use_days_before_valve_close", 6: "clock_tolerance_seconds",
               7: "retransmit_timeout_seconds", 8: "retransmit_max_attempts"}
OUTCOME_NAMES = {0: "executed", 1: "refused", 2: "failed", 3: "unsupported"}
ACK_RESULT_NAMES = {0: "stored", 1: "duplicate", 2: "rejected"}
ACTION_NAMES = {1: "close", 2: "permit_open"}


def utc(year, month, day, hour=0, minute=0, second=0):
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))


T0 = utc(2026, 11, 23, 8, 0, 0)


def crc16_ccitt_false(data):
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def cmac8(key, data):
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()[:8]


def frame(ftype, payload, meter=METER_A, counter=1, meter_time=T0, flags=0, key=KEY_A, version=1,
          magic=b"GM", declared_length=None):
    """Lays out, authenticates and checksums one frame. Every field may be given an invalid value."""
    length = len(payload) if declared_length is None else declared_length
    head = magic + struct.pack(">BBBQIIH", version, ftype, flags, meter, counter, meter_time, length)
    body = head + payload
    body += cmac8(key, body)
    return body + struct.pack(">H", crc16_ccitt_false(body))


def reseal_crc(data):
    return data[:-2] + struct.pack(">H", crc16_ccitt_false(data[:-2]))


# --- payload builders (raw values; no validation) -------------------------------------------------------------

def reading_payload(raw, exp, digits, flow, valve, battery, temp, signal, status):
    return struct.pack(">QbBIBHhhI", raw, exp, digits, flow, valve, battery, temp, signal, status)


def daily_payload(start, minutes, raw, exp, digits, points, frozen, point_count=None, frozen_count=None):
    n = len(points) if point_count is None else point_count
    k = len(frozen) if frozen_count is None else frozen_count
    out = struct.pack(">IBBQbB", start, minutes, n, raw, exp, digits)
    out += b"".join(struct.pack(">I", p) for p in points)
    out += struct.pack(">B", k)
    out += b"".join(struct.pack(">IQ", t, r) for t, r in frozen)
    return out


def alarm_payload(code, state, valve, raw, exp, digits, flow, detail):
    return struct.pack(">HBBQbBIi", code, state, valve, raw, exp, digits, flow, detail)


def command_result_payload(counter, ctype, result, valve):
    return struct.pack(">IBBB", counter, ctype, result, valve)


def ack_payload(counter, atype, result, server_time):
    return struct.pack(">IBBI", counter, atype, result, server_time)


def valve_payload(action, reason):
    return struct.pack(">BH", action, reason)


def param_payload(params, count=None):
    c = len(params) if count is None else count
    return struct.pack(">B", c) + b"".join(struct.pack(">BI", i, v) for i, v in params)


# --- expected values, computed independently ------------------------------------------------------------------

def m3_text(raw, exp):
    value = Decimal(raw).scaleb(exp)
    return format(value, "f") if exp == 0 else format(value, ".%df" % -exp)


def ml(raw, exp):
    return raw * 10 ** (exp + 6)


def iso(seconds):
    if seconds == 0:
        return None
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def priority(condition, valve):
    if condition in ("methane_detector", "flow_with_valve_closed"):
        return "P0"
    if condition in ("over_flow", "seismic_shut_off", "pressure_low"):
        return "P1" if valve == "closed" else "P0"
    if condition in ("uncontrolled_flow_after_reopen", "tilt_or_removal", "valve_fault"):
        return "P1"
    if condition in ("continuous_flow_timeout", "tiny_flow_leak", "unrecognised_alarm"):
        return "P2"
    return "P3"


def register_expect(raw, exp, digits):
    return {
        "raw": str(raw), "exponent": exp, "digits": digits,
        "volume_m3": m3_text(raw, exp), "volume_ml": str(ml(raw, exp)), "modulus_ml": str(10 ** (digits + 6)),
    }


def header_expect(data):
    version, ftype, flags, meter, counter, meter_time, length = struct.unpack(">BBBQIIH", data[2:23])
    return {
        "version": version, "frame_type": ftype, "frame_type_name": TYPE_NAMES[ftype], "flags": flags,
        "ack_requested": bool(flags & 1), "retransmission": bool(flags & 2), "meter_id": str(meter),
        "frame_counter": counter, "meter_time": meter_time, "meter_time_iso": iso(meter_time),
        "payload_length": length,
    }


VALID = []
MALFORMED = []


def add_valid(name, description, data, key, body_name, body, records=None):
    entry = {
        "name": name, "description": description, "hex": data.hex().upper(), "key": key.hex().upper(),
        "expected": {
            "direction": "uplink" if data[3] < 0x80 else "downlink",
            "header": header_expect(data), "mac": data[-10:-2].hex().upper(), body_name: body,
        },
    }
    if records is not None:
        entry["expected"]["records"] = records
    VALID.append(entry)
    return data


def add_malformed(name, description, data, key, error):
    MALFORMED.append({
        "name": name, "description": description, "hex": data.hex().upper(),
        "key": None if key is None else key.hex().upper(), "error": error,
    })


# --- readings ---------------------------------------------------------------------------------------------------

def add_reading(name, description, raw, exp, digits, flow, valve, battery, temp, signal, status, meter=METER_A,
                counter=1, meter_time=T0, flags=0, key=KEY_A):
    data = frame(0x01, reading_payload(raw, exp, digits, flow, valve, battery, temp, signal, status), meter,
                 counter, meter_time, flags, key)
    body = dict(register_expect(raw, exp, digits))
    body.update({
        "flow_ml_h": None if flow == 0xFFFFFFFF else flow,
        "flow_m3_h": None if flow == 0xFFFFFFFF else format(Decimal(flow).scaleb(-6).normalize(), "f"),
        "valve": VALVE_NAMES[valve],
        "battery_mv": None if battery == 0xFFFF else battery,
        "temperature_centi_c": None if temp == -0x8000 else temp,
        "signal_dbm": None if signal == -0x8000 else signal,
        "status": status, "status_bits": [STATUS_NAMES[i] for i in range(32) if status >> i & 1],
    })
    records = {
        "frames": 1, "readings": [{
            "kind": "periodic", "read_at": meter_time if meter_time else "received_at",
            "volume_ml": str(ml(raw, exp)), "status_bits": status | (0 if meter_time else 1 << 5),
        }], "intervals": [], "alarms": [],
    }
    return add_valid(name, description, data, key, "reading", body, records)


BASIC = add_reading("reading-basic", "Typical periodic reading, ack requested", 1234567, -3, 8, 500000, 0, 3600,
                    2150, -85, 0x00000002, counter=7, flags=ACK_REQUESTED)
add_reading("reading-sentinels", "Every optional field not measured; valve unknown (0xFF)", 42, -2, 6, 0xFFFFFFFF,
            0xFF, 0xFFFF, -0x8000, -0x8000, 0, counter=8)
add_reading("reading-clock-not-set", "Meter time 0: the gateway uses the receive time and sets status bit 5",
            9999999999, -6, 4, 0, 1, 3000, -1, -120, 0, counter=9, meter_time=0)
add_reading("reading-extremes", "Largest meter id and counter, register at its maximum, range limits, every status bit",
            9999999999, 0, 10, 0xFFFFFFFE, 3, 0, -4000, -150, 0xFFFFFFFF, meter=METER_MAX, counter=0xFFFFFFFF,
            flags=ACK_REQUESTED | RETRANSMISSION, key=KEY_B)
add_reading("reading-upper-limits", "Temperature 85.00 degC, signal 0 dBm, valve moving, zero register", 0, -1, 5,
            1, 2, 65534, 8500, 0, 0x00001FFF, counter=10)
add_reading("reading-retransmission", "Retransmission of reading-basic: same counter and content, flag set",
            1234567, -3, 8, 500000, 0, 3600, 2150, -85, 0x00000002, counter=7, flags=ACK_REQUESTED | RETRANSMISSION)
add_reading("reading-negative-temperature", "Temperature -0.05 degC and a reserved status bit", 100, 0, 8, 12345, 0,
            3100, -5, -70, 0x80000040, counter=11)


# --- daily reports ----------------------------------------------------------------------------------------------

def add_daily(name, description, start, minutes, raw, exp, digits, points, frozen, counter=20, meter_time=T0,
              flags=ACK_REQUESTED):
    data = frame(0x02, daily_payload(start, minutes, raw, exp, digits, points, frozen), METER_A, counter,
                 meter_time, flags, KEY_A)
    modulus = 10 ** (digits - exp)
    intervals = []
    index = raw
    for i, p in enumerate(points):
        index = (index + p) % modulus
        intervals.append({
            "start": start + i * minutes * 60, "volume_ml": str(ml(p, exp)), "consumption_m3": m3_text(p, exp),
            "end_index_ml": str(ml(index, exp)), "end_index_m3": m3_text(index, exp),
        })
    body = {
        "interval_start": start, "interval_minutes": minutes, "point_count": len(points),
        "start_register": register_expect(raw, exp, digits), "points": points,
        "frozen": [{"time": t, "raw": str(r), "volume_m3": m3_text(r, exp), "volume_ml": str(ml(r, exp))}
                   for t, r in frozen],
    }
    records = {
        "frames": 1,
        "readings": [{"kind": "daily_frozen", "read_at": t, "volume_ml": str(ml(r, exp)), "status_bits": 0}
                     for t, r in frozen],
        "intervals": intervals, "alarms": [],
    }
    return add_valid(name, description, data, KEY_A, "daily_report", body, records)


DAY = utc(2026, 11, 22)
points48 = [(i * 37 + 11) % 900 for i in range(48)]
points48[10] = 0
points48[20] = 99999  # large spike, still below one register turn
frozen7 = [(DAY - 86400 * d, 99_990_000 - 1500 * d) for d in range(7)]
DAILY = add_daily("daily-report-48-points", "48 half-hour points wrapping the register at 10^5 m3, 7 frozen totals",
                  DAY, 30, 99_990_000, -3, 5, points48, frozen7)
add_daily("daily-report-empty", "No points and no frozen totals (hourly)", DAY, 60, 5, 0, 8, [], [], counter=21)
add_daily("daily-report-15-minutes", "Four quarter-hour points and one frozen total", DAY + 900 * 4, 15, 123456789,
          -4, 6, [0, 1, 2, 4294967], [(DAY, 123456000)], counter=22)


# --- alarms -----------------------------------------------------------------------------------------------------

def add_alarm(name, description, code, state, valve, raw=5000123, exp=-3, digits=8, flow=0xFFFFFFFF, detail=0,
              counter=30, meter_time=T0):
    data = frame(0x03, alarm_payload(code, state, valve, raw, exp, digits, flow, detail), METER_A, counter,
                 meter_time, ACK_REQUESTED, KEY_A)
    condition = ALARM_CONDITIONS.get(code, "unrecognised_alarm")
    body = dict(register_expect(raw, exp, digits))
    body.update({
        "code": code, "condition": condition, "raised": state == 1, "valve": VALVE_NAMES[valve],
        "flow_ml_h": None if flow == 0xFFFFFFFF else flow, "detail": detail,
        "priority": priority(condition, VALVE_NAMES[valve]),
    })
    records = {
        "frames": 1,
        "readings": [{"kind": "alarm_snapshot", "read_at": meter_time or "received_at",
                      "volume_ml": str(ml(raw, exp)), "status_bits": 0 if meter_time else 1 << 5}],
        "intervals": [],
        "alarms": [{"raw_code": code, "condition": condition, "cleared": state == 0,
                    "priority": priority(condition, VALVE_NAMES[valve]), "detail": detail,
                    "raised_at": meter_time or "received_at"}],
    }
    return add_valid(name, description, data, KEY_A, "alarm", body, records)


ALARM = add_alarm("alarm-methane", "Methane detector, 25.00 %LEL, valve closed", 0x0001, 1, 1, detail=2500,
                  flow=0)
add_alarm("alarm-over-flow-open", "Over-flow with the valve still open (P0)", 0x0002, 1, 0, flow=9_500_000,
          counter=31)
add_alarm("alarm-over-flow-closed", "Over-flow, valve confirmed closed (P1)", 0x0002, 1, 1, flow=0, counter=32)
add_alarm("alarm-pressure-low", "Pressure low, 1800 Pa", 0x000A, 1, 1, detail=1800, counter=33)
add_alarm("alarm-cleared", "Battery low cleared", 0x000C, 0, 0, counter=34)
add_alarm("alarm-unknown-code", "Unknown code 0x1234 decodes and maps to unrecognised", 0x1234, 1, 0, counter=35)
add_alarm("alarm-negative-detail", "Clock fault with a negative detail, meter clock not set", 0x000E, 1, 0xFF,
          detail=-3600, counter=36, meter_time=0)
for code in range(0x0003, 0x000F):
    if code in (0x000A, 0x000C, 0x000E):
        continue
    add_alarm("alarm-code-%04x" % code, "Alarm code 0x%04X raised" % code, code, 1, code % 4, counter=40 + code)


# --- command results and downlinks ------------------------------------------------------------------------------

def add_simple(name, description, ftype, payload, body_name, body, counter=50, flags=0, meter_time=T0, records=None):
    data = frame(ftype, payload, METER_A, counter, meter_time, flags, KEY_A)
    return add_valid(name, description, data, KEY_A, body_name, body, records)


frame_only = {"frames": 1, "readings": [], "intervals": [], "alarms": []}
nothing = {"frames": 0, "readings": [], "intervals": [], "alarms": []}
add_simple("command-result-valve", "Valve command 0x00000005 executed, valve closed", 0x04,
           command_result_payload(5, 0x82, 0, 1), "command_result",
           {"command_frame_counter": 5, "command_type": 0x82, "result": "executed", "valve": "closed"},
           counter=51, flags=ACK_REQUESTED, records=frame_only)
add_simple("command-result-refused", "Permit-open refused (needs local confirmation)", 0x04,
           command_result_payload(6, 0x82, 1, 1), "command_result",
           {"command_frame_counter": 6, "command_type": 0x82, "result": "refused", "valve": "closed"}, counter=52,
           records=frame_only)
add_simple("command-result-parameters", "Parameter update unsupported", 0x04, command_result_payload(7, 0x83, 3, 0),
           "command_result", {"command_frame_counter": 7, "command_type": 0x83, "result": "unsupported",
                              "valve": "open"}, counter=53, records=frame_only)
ACK = None
for result in (0, 1, 2):
    data = add_simple("ack-%s" % ACK_RESULT_NAMES[result], "Ack of uplink counter 7 (%s)" % ACK_RESULT_NAMES[result],
                      0x81, ack_payload(7, 0x01, result, T0 + 5), "ack",
                      {"acked_frame_counter": 7, "acked_frame_type": 1, "result": ACK_RESULT_NAMES[result],
                       "server_time": T0 + 5}, counter=7, meter_time=T0 + 5, records=nothing)
    ACK = ACK or data
VALVE = add_simple("valve-command-close", "Close the valve because of alarm 0x0001", 0x82, valve_payload(1, 1),
                   "valve_command", {"action": "close", "reason": 1}, counter=5, flags=ACK_REQUESTED,
                   meter_time=T0 + 60, records=nothing)
add_simple("valve-command-permit-open", "Permit opening after repair, no reason code", 0x82, valve_payload(2, 0),
           "valve_command", {"action": "permit_open", "reason": 0}, counter=6, flags=ACK_REQUESTED,
           meter_time=T0 + 120, records=nothing)
all_params = [(1, 60), (2, 120), (3, 6_000_000), (4, 2000), (5, 0), (6, 300), (7, 60), (8, 3)]
PARAMS = add_simple("parameter-update-all", "All eight parameters", 0x83, param_payload(all_params),
                    "parameter_update", {"parameters": [{"id": i, "name": PARAM_NAMES[i], "value": v}
                                                        for i, v in all_params]},
                    counter=7, flags=ACK_REQUESTED, records=nothing)
add_simple("parameter-update-one", "One parameter at its upper limit", 0x83, param_payload([(8, 10)]),
           "parameter_update", {"parameters": [{"id": 8, "name": PARAM_NAMES[8], "value": 10}]}, counter=8,
           records=nothing)


# --- malformed --------------------------------------------------------------------------------------------------

def r(**overrides):
    """A reading payload with overrides of the basic values."""
    values = dict(raw=1234567, exp=-3, digits=8, flow=500000, valve=0, battery=3600, temp=2150, signal=-85, status=2)
    values.update(overrides)
    return reading_payload(**values)


add_malformed("empty", "No bytes at all", b"", KEY_A, "truncated")
add_malformed("truncated-32", "First 32 bytes of a valid frame", BASIC[:32], KEY_A, "truncated")
add_malformed("truncated-payload", "A valid frame without its last byte", BASIC[:-1], KEY_A, "truncated")
add_malformed("bad-magic", "Magic 'GX'", frame(0x01, r(), magic=b"GX"), KEY_A, "bad_frame")
add_malformed("bad-magic-short", "Wrong magic checked before the declared length", b"\x68" + BASIC[1:40], KEY_A,
              "bad_frame")
add_malformed("unknown-version", "Version 2, otherwise valid", frame(0x01, r(), version=2), KEY_A, "unknown_version")
add_malformed("unknown-version-0", "Version 0", frame(0x01, r(), version=0), KEY_A, "unknown_version")
add_malformed("too-large-declared", "Declared payload length 0xFFFF in a 58-byte frame",
              BASIC[:21] + b"\xff\xff" + BASIC[23:], KEY_A, "frame_too_large")
add_malformed("too-large-480", "Payload of 480 bytes (513-byte frame)", frame(0x02, bytes(480)), KEY_A,
              "frame_too_large")
add_malformed("bad-length-trailing-byte", "A valid frame followed by one more byte", BASIC + b"\x00", KEY_A,
              "bad_length")
add_malformed("bad-crc", "Last CRC byte flipped", BASIC[:-1] + bytes([BASIC[-1] ^ 0x01]), KEY_A, "bad_crc")
add_malformed("bad-crc-payload-bit", "One payload bit flipped, CRC not updated",
              BASIC[:30] + bytes([BASIC[30] ^ 0x10]) + BASIC[31:], KEY_A, "bad_crc")
add_malformed("bad-crc-before-unknown-meter", "CRC is checked before the key lookup",
              BASIC[:-1] + bytes([BASIC[-1] ^ 0xFF]), None, "bad_crc")
add_malformed("unknown-meter", "No key registered for the meter", BASIC, None, "unknown_meter")
add_malformed("bad-mac-wrong-key", "Authenticated with another key", BASIC, KEY_WRONG, "bad_mac")
tampered = BASIC[:39] + bytes([BASIC[39] ^ 0x01]) + BASIC[40:]  # battery low byte
add_malformed("bad-mac-tampered-payload", "Payload changed and CRC recomputed, MAC not", reseal_crc(tampered),
              KEY_A, "bad_mac")
add_malformed("bad-mac-flag-changed", "Retransmission flag set without recomputing the MAC",
              reseal_crc(BASIC[:4] + bytes([BASIC[4] | RETRANSMISSION]) + BASIC[5:]), KEY_A, "bad_mac")
add_malformed("unknown-type-05", "Uplink type 0x05 is not defined in v1", frame(0x05, r()), KEY_A, "unknown_type")
add_malformed("unknown-type-80", "Downlink type 0x80 is not defined in v1", frame(0x80, b""), KEY_A, "unknown_type")
add_malformed("unknown-type-00", "Type 0x00", frame(0x00, r()), KEY_A, "unknown_type")
add_malformed("bad-length-reading-24", "Reading with a 24-byte payload", frame(0x01, r()[:24]), KEY_A, "bad_length")
add_malformed("bad-length-reading-26", "Reading with a 26-byte payload", frame(0x01, r() + b"\x00"), KEY_A,
              "bad_length")
add_malformed("bad-length-daily-counts", "Daily report whose n and k do not match its length",
              frame(0x02, daily_payload(DAY, 30, 1, -3, 8, [1, 2], [], point_count=3)), KEY_A, "bad_length")
add_malformed("bad-length-daily-short", "Daily report payload of 16 bytes", frame(0x02, bytes(16)), KEY_A,
              "bad_length")
add_malformed("bad-length-ack", "Ack with 9 payload bytes", frame(0x81, ack_payload(1, 1, 0, T0)[:9], counter=1),
              KEY_A, "bad_length")
add_malformed("bad-length-parameter-update", "Count 2 but one entry",
              frame(0x83, param_payload([(1, 60)], count=2)), KEY_A, "bad_length")
add_malformed("bad-length-parameter-empty", "Parameter update with an empty payload", frame(0x83, b""), KEY_A,
              "bad_length")

OOR = "field_out_of_range"
add_malformed("meter-id-zero", "Meter id 0 (rejected before the key lookup)", frame(0x01, r(), meter=0), None, OOR)
add_malformed("reserved-flag-bit2", "Reserved flag bit 2 set", frame(0x01, r(), flags=0x04), KEY_A, OOR)
add_malformed("reserved-flag-bit7", "Reserved flag bit 7 set", frame(0x01, r(), flags=0x81), KEY_A, OOR)
add_malformed("reading-exponent-7", "Exponent -7", frame(0x01, r(exp=-7)), KEY_A, OOR)
add_malformed("reading-exponent-plus-1", "Exponent +1", frame(0x01, r(exp=1)), KEY_A, OOR)
add_malformed("reading-digits-3", "Register digits 3", frame(0x01, r(digits=3)), KEY_A, OOR)
add_malformed("reading-digits-11", "Register digits 11", frame(0x01, r(digits=11)), KEY_A, OOR)
add_malformed("reading-register-overflow", "Raw register 10^(digits-exp)", frame(0x01, r(raw=10 ** 11)), KEY_A, OOR)
add_malformed("reading-valve-4", "Valve 4", frame(0x01, r(valve=4)), KEY_A, OOR)
add_malformed("reading-temperature-high", "Temperature 8501", frame(0x01, r(temp=8501)), KEY_A, OOR)
add_malformed("reading-temperature-low", "Temperature -4001", frame(0x01, r(temp=-4001)), KEY_A, OOR)
add_malformed("reading-signal-positive", "Signal +1 dBm", frame(0x01, r(signal=1)), KEY_A, OOR)
add_malformed("reading-signal-low", "Signal -151 dBm", frame(0x01, r(signal=-151)), KEY_A, OOR)
add_malformed("daily-minutes-20", "Interval of 20 minutes", frame(0x02, daily_payload(DAY, 20, 1, -3, 8, [1], [])),
              KEY_A, OOR)
add_malformed("daily-misaligned-start", "Interval start not on a 30-minute boundary",
              frame(0x02, daily_payload(DAY + 60, 30, 1, -3, 8, [1], [])), KEY_A, OOR)
add_malformed("daily-start-zero", "Interval start 0", frame(0x02, daily_payload(0, 30, 1, -3, 8, [1], [])), KEY_A,
              OOR)
add_malformed("daily-49-points", "49 points with a consistent length",
              frame(0x02, daily_payload(DAY, 15, 1, -3, 8, [1] * 49, [])), KEY_A, OOR)
add_malformed("daily-8-frozen", "8 frozen totals with a consistent length",
              frame(0x02, daily_payload(DAY, 30, 1, -3, 8, [], [(DAY, 1)] * 8)), KEY_A, OOR)
add_malformed("daily-frozen-time-zero", "Frozen total with time 0",
              frame(0x02, daily_payload(DAY, 30, 1, -3, 8, [], [(0, 1)])), KEY_A, OOR)
add_malformed("daily-point-too-large", "A point of one full register turn",
              frame(0x02, daily_payload(DAY, 30, 1, 0, 4, [10000], [])), KEY_A, OOR)
add_malformed("daily-frozen-register-overflow", "Frozen register not below the modulus",
              frame(0x02, daily_payload(DAY, 30, 1, 0, 4, [], [(DAY, 10000)])), KEY_A, OOR)
add_malformed("alarm-state-2", "Alarm state 2", frame(0x03, alarm_payload(1, 2, 0, 1, -3, 8, 0, 0)), KEY_A, OOR)
add_malformed("alarm-valve-9", "Alarm valve 9", frame(0x03, alarm_payload(1, 1, 9, 1, -3, 8, 0, 0)), KEY_A, OOR)
add_malformed("command-result-type", "Command result for type 0x81",
              frame(0x04, command_result_payload(1, 0x81, 0, 0)), KEY_A, OOR)
add_malformed("command-result-result-4", "Command result 4",
              frame(0x04, command_result_payload(1, 0x82, 4, 0)), KEY_A, OOR)
add_malformed("ack-result-3", "Ack result 3", frame(0x81, ack_payload(7, 1, 3, T0), counter=7), KEY_A, OOR)
add_malformed("ack-counter-mismatch", "Ack whose header counter differs from the acked counter",
              frame(0x81, ack_payload(7, 1, 0, T0), counter=8), KEY_A, OOR)
add_malformed("ack-with-flags", "Ack with ACK_REQUESTED", frame(0x81, ack_payload(7, 1, 0, T0), counter=7,
                                                                 flags=ACK_REQUESTED), KEY_A, OOR)
add_malformed("valve-action-0", "Valve action 0", frame(0x82, valve_payload(0, 0)), KEY_A, OOR)
add_malformed("valve-action-3", "Valve action 3", frame(0x82, valve_payload(3, 0)), KEY_A, OOR)
add_malformed("parameter-count-0", "Parameter update with count 0", frame(0x83, param_payload([])), KEY_A, OOR)
add_malformed("parameter-count-17", "17 parameters with a consistent length",
              frame(0x83, param_payload([(1, 60)] * 17)), KEY_A, OOR)
add_malformed("parameter-id-9", "Unknown parameter id 9", frame(0x83, param_payload([(9, 1)])), KEY_A, OOR)
add_malformed("parameter-id-0", "Unknown parameter id 0", frame(0x83, param_payload([(0, 1)])), KEY_A, OOR)
add_malformed("parameter-duplicate", "The same parameter twice", frame(0x83, param_payload([(1, 60), (1, 30)])),
              KEY_A, OOR)
add_malformed("parameter-value-range", "Reporting interval of 4 minutes", frame(0x83, param_payload([(1, 4)])),
              KEY_A, OOR)


def main():
    document = {
        "about": "Golden vectors of the native protocol v1 (firmware-protocols/native-v1.md). Generated by "
                 "tools/gen_native_vectors.py, independently of the Swift encoder. Hex is upper case without "
                 "separators; u64 values and volumes are decimal strings; times are Unix seconds (UTC). A null "
                 "key means no key is registered for the meter. 'records' lists the rows the gateway derives; "
                 "'received_at' stands for the receive time.",
        "fuzz_key": KEY_A.hex().upper(),
        "valid": VALID,
        "malformed": MALFORMED,
    }
    with open(os.path.join(ROOT, "native-v1-vectors.json"), "w") as out:
        json.dump(document, out, indent=1)
        out.write("\n")
    corpus = os.path.join(ROOT, "corpus", "native")
    os.makedirs(corpus, exist_ok=True)
    for old in os.listdir(corpus):
        os.remove(os.path.join(corpus, old))
    # Selector byte 0x00: decode as is. 0x80: the harness reseals CRC and MAC first (see FuzzEntry.swift).
    for entry in VALID + MALFORMED:
        data = bytes.fromhex(entry["hex"])
        with open(os.path.join(corpus, entry["name"] + ".bin"), "wb") as out:
            out.write(b"\x00" + data)
        if entry in VALID:
            with open(os.path.join(corpus, entry["name"] + ".reseal.bin"), "wb") as out:
                out.write(b"\x80" + data)
    print("%d valid, %d malformed vectors" % (len(VALID), len(MALFORMED)))


if __name__ == "__main__":
    main()
