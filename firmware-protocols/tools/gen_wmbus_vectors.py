#!/usr/bin/env python3
"""Generates the golden vectors of the wireless/wired M-Bus + OMS decoder (firmware-protocols/wmbus-oms.md).

An implementation independent of the Swift decoder: frames are laid out byte by byte here, the DLL CRC is a bitwise
CRC-16/EN-13757 written here, AES-CBC/CTR and AES-CMAC come from the `cryptography` package, and every expected
value is written down by hand next to the bytes that carry it (decimal text, millilitres, dates). The three public
OMS examples are copied from /work/shared/vectors/public-examples.json with the values their sources state.

Usage (from the repository root):
    python3 firmware-protocols/tools/gen_wmbus_vectors.py

Writes firmware-protocols/wmbus-vectors.json and the fuzzing seed corpora firmware-protocols/corpus/wmbus/ and
firmware-protocols/corpus/mbus/. Output is deterministic: running it twice gives identical files.
"""

import json
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The fuzzer's fixed test key (Sources/FrameFuzzHarness/FuzzMBus.swift); every constructed encrypted frame uses it.
KEY = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
# The key of the OMS Annex N mode-5 example.
KEY_PUBLIC_MODE5 = bytes.fromhex("0102030405060708090A0B0C0D0E0F11")
KEY_WRONG = bytes.fromhex("FFEEDDCCBBAA99887766554433221100")

PUBLIC_MODE5 = "2E4493157856341233037A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D6D69EBF3"
PUBLIC_MODE7 = ("434493157856341233038C2075900F002C25B30A000021924D4F2FB66E017A75002007109058475F4BC91DF878B80A1B0F98B6"
                "29024AAC727942BFC549233C0140829B93")
PUBLIC_WIRED = "6820206808FD7278563412931533032A0000000C1427048502046D32371F1502FD1700008916"


# ---------------------------------------------------------------------------------------------------------------
# Primitives


def crc16_en13757(data):
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x3D65) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc ^ 0xFFFF


def cmac(key, data):
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def cbc_encrypt(key, iv, data):
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def ctr_apply(key, counter, data):
    encryptor = Cipher(algorithms.AES(key), modes.CTR(counter)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def mcode(letters):
    return ((ord(letters[0]) - 64) << 10) | ((ord(letters[1]) - 64) << 5) | (ord(letters[2]) - 64)


def id_bytes(id_text):
    return bytes.fromhex(id_text)[::-1]


def address_bytes(mfr, id_text, version, dtype):
    """M(2) ID(4) version type, as in the DLL and the ELL."""
    return struct.pack("<H", mcode(mfr)) + id_bytes(id_text) + bytes([version, dtype])


def registry(mfr, id_text, version, dtype):
    return "%s-%s-%d-%02X" % (mfr, id_text, version, dtype)


TYPE_NAMES = {0x03: "gas", 0x06: "warm_water", 0x07: "water", 0x37: "radio_converter", 0x32: "unidirectional_repeater",
              0x0E: "bus_component"}


def meter(mfr, id_text, version, dtype):
    return {"id": id_text, "manufacturer": mfr, "version": version, "type": TYPE_NAMES[dtype], "type_code": dtype,
            "address": registry(mfr, id_text, version, dtype)}


def cfg(mode, blocks=0, bidirectional=False, accessible=False, synchronous=False, content=0):
    return ((bidirectional << 15) | (accessible << 14) | (synchronous << 13) | (mode << 8) | (blocks << 4)
            | (content << 2))


def tpl_short(acc, sts, config):
    return bytes([0x7A, acc, sts]) + struct.pack("<H", config)


def tpl_long(mfr, id_text, version, dtype, acc, sts, config, ci=0x72):
    return bytes([ci]) + id_bytes(id_text) + struct.pack("<H", mcode(mfr)) + bytes([version, dtype, acc, sts]) \
        + struct.pack("<H", config)


def wireless(c, mfr, id_text, version, dtype, body):
    payload = bytes([c]) + address_bytes(mfr, id_text, version, dtype) + body
    assert len(payload) <= 255
    return bytes([len(payload)]) + payload


def wired(c, a, body):
    data = bytes([c, a]) + body
    assert len(data) <= 255
    return bytes([0x68, len(data), len(data), 0x68]) + data + bytes([sum(data) & 0xFF, 0x16])


def pad16(plain):
    return plain + b"\x2f" * (-len(plain) % 16)


def mode5_encrypt(key, m_a, acc, plain):
    return cbc_encrypt(key, m_a + bytes([acc]) * 8, plain)


def kdf(key, selector, mcr, meter_id):
    return cmac(key, bytes([selector]) + struct.pack("<I", mcr) + meter_id + b"\x07" * 7)


def mode7_body(key, meter_id, ell_cc, ell_acc, mcr, tpl_header, cfg_ext, plain, with_ml=False):
    """ELL 8C + AFL (MCL, MCR, MAC[, ML]) + TPL mode 7, as OMS security profile B."""
    enc = cbc_encrypt(kdf(key, 0x00, mcr, meter_id), bytes(16), plain)
    tpl = tpl_header + bytes([cfg_ext]) + enc
    mcl = 0x25 | (0x40 if with_ml else 0)
    fcl = 0x2000 | 0x0800 | 0x0400 | (0x1000 if with_ml else 0)
    ml = struct.pack("<H", len(tpl)) if with_ml else b""
    mac = cmac(kdf(key, 0x01, mcr, meter_id), bytes([mcl]) + struct.pack("<I", mcr) + ml + tpl)[:8]
    fields = struct.pack("<H", fcl) + bytes([mcl]) + struct.pack("<I", mcr) + mac + ml
    return bytes([0x8C, ell_cc, ell_acc, 0x90, len(fields)]) + fields + tpl, fcl, mcl, mac


def ell_ctr(key, m_a, cc, sn, payload):
    """PayloadCRC (LE) + payload, AES-128-CTR with IV = M A (CC & EF) SN 00 00 00."""
    plain = struct.pack("<H", crc16_en13757(payload)) + payload
    counter = m_a + bytes([cc & 0xEF]) + struct.pack("<I", sn) + b"\x00\x00\x00"
    return ctr_apply(key, counter, plain)


def format_a(frame):
    """Adds format-A CRCs to a frame without CRCs (L unchanged)."""
    out = frame[:10] + struct.pack(">H", crc16_en13757(frame[:10]))
    rest = frame[10:]
    for start in range(0, len(rest), 16):
        block = rest[start:start + 16]
        out += block + struct.pack(">H", crc16_en13757(block))
    return out


def format_b(frame):
    """Re-frames a frame without CRCs as format B (L counts the CRCs)."""
    data = frame[1:]
    if len(frame) + 2 <= 128:
        head = bytes([len(frame) + 1]) + data
        return head + struct.pack(">H", crc16_en13757(head))
    head = bytes([len(frame) + 3]) + data[:125]
    tail = data[125:]
    return head + struct.pack(">H", crc16_en13757(head)) + tail + struct.pack(">H", crc16_en13757(tail))


def bcd(value, digits):
    text = "%0*d" % (digits, value)
    return bytes.fromhex(text)[::-1]


def date_g(year, month, day):
    y = year - 2000
    return bytes([day | ((y & 0x07) << 5), month | ((y >> 3) << 4)])


def date_f(year, month, day, hour, minute, hundred=0, invalid=False):
    y = year - 2000
    return bytes([minute | (0x80 if invalid else 0), hour | (hundred << 5), day | ((y & 0x07) << 5),
                  month | ((y >> 3) << 4)])


def date_i(year, month, day, hour, minute, second):
    y = year - 2000
    return bytes([second, minute, hour, day | ((y & 0x07) << 5), month | ((y >> 3) << 4), 0])


# ---------------------------------------------------------------------------------------------------------------
# Records: bytes plus the expected decode, written by hand.


def rec(header, data, quantity, kind, value, unit="", exponent=0, storage=0, tariff=0, subunit=0,
        function="instantaneous", basis="unspecified", accumulation="standard", modifier=None, ml=None,
        vif_table="primary", reading=None, lvar=None):
    header_bytes = bytes.fromhex(header) if isinstance(header, str) else header
    body = header_bytes + (bytes([lvar]) if lvar is not None else b"") + data
    expected = {
        "dif_vif": header_bytes.hex().upper(), "quantity": quantity, "kind": kind, "value": value, "unit": unit,
        "exponent": exponent, "storage": storage, "tariff": tariff, "subunit": subunit, "function": function,
        "basis": basis, "accumulation": accumulation, "modifier": modifier, "millilitres": ml,
        "data_hex": data.hex().upper(), "vif_table": vif_table,
    }
    if reading is None:
        reading = kind in ("integer", "real") and modifier is None and quantity in MEASUREMENTS
    return body, expected, reading


MEASUREMENTS = {"energy", "volume", "mass", "on_time", "operating_time", "power", "flow", "mass_flow",
                "flow_temperature", "return_temperature", "temperature_difference", "external_temperature",
                "pressure", "hca_units", "voltage", "current", "battery_operating_time", "reception_level",
                "battery_remaining"}


def oms_records():
    """The records of the OMS Annex N gas examples (all three carry the same application data)."""
    return [
        rec("0C14", bcd(2850427, 8), "volume", "integer", "28504.27", "m3", -2, ml="28504270000"),
        rec("046D", bytes.fromhex("32371F15"), "date_time", "date", "2008-05-31T23:50:00"),
        rec("02FD17", bytes.fromhex("0000"), "error_flags", "bits", 0, vif_table="fd"),
    ]


def assemble(records):
    return b"".join(r[0] for r in records)


def expected_records(records, protected):
    out = []
    for index, (_, exp, _) in enumerate(records):
        entry = dict(exp)
        entry["protected"] = protected[index] if isinstance(protected, list) else protected
        out.append(entry)
    return out


def expected_readings(records, protected):
    out = []
    for index, (_, exp, is_reading) in enumerate(records):
        if not is_reading:
            continue
        out.append({
            "quantity": exp["quantity"], "value": exp["value"], "unit": exp["unit"], "storage": exp["storage"],
            "tariff": exp["tariff"], "subunit": exp["subunit"], "function": exp["function"], "basis": exp["basis"],
            "accumulation": exp["accumulation"],
            "protected": protected[index] if isinstance(protected, list) else protected,
        })
    return out


STATUS_OK = {"raw": 0, "application": "no_error", "bits": []}


def security(mode=0, tpl="none", ell="none", mac_verified=False, encrypted_bytes=0):
    state = "already_decrypted" if "already_decrypted" in (tpl, ell) else (
        "decrypted" if "decrypted" in (tpl, ell) else "none")
    return {"mode": mode, "tpl": tpl, "ell": ell, "mac_verified": mac_verified, "encrypted_bytes": encrypted_bytes,
            "state": state}


VALID = []
REJECTED = []


def valid(name, description, frame, expected, key=None, allow=False, medium="wireless", frame_format="no_crc",
          decode_format=None, source="constructed", stated=None):
    entry = {
        "name": name, "description": description, "source": source, "medium": medium,
        "frame_format": frame_format, "decode_format": decode_format, "hex": frame.hex().upper(),
        "key": key.hex().upper() if key else None, "allow_already_decrypted": allow, "expected": expected,
    }
    if stated is not None:
        entry["stated"] = stated
    VALID.append(entry)


def rejected(name, description, frame, error, key=None, allow=False, medium="wireless", decode_format=None,
             peek=None):
    REJECTED.append({
        "name": name, "description": description, "medium": medium, "decode_format": decode_format,
        "hex": frame.hex().upper(), "key": key.hex().upper() if key else None, "allow_already_decrypted": allow,
        "error": error, "peek": peek,
    })


def expected(meter_obj, link, tpl, records, protected, access, status=STATUS_OK, alarms=(), sec=None,
             meter_time=None, ell=None, afl=None, kind="data", dropped=0, manufacturer_data=None, more=False,
             payload_hex=None, direction="from_meter"):
    return {
        "direction": direction, "frame_kind": kind, "meter": meter_obj, "link": link, "ell": ell, "afl": afl,
        "tpl": tpl, "access_number": access, "status": status, "alarms": list(alarms),
        "security": sec or security(), "meter_time": meter_time,
        "readings": expected_readings(records, protected), "records": expected_records(records, protected),
        "records_dropped": dropped, "manufacturer_data": manufacturer_data, "more_records_follow": more,
        "payload_hex": payload_hex,
    }


def link_w(frame, fmt, mfr, id_text, version, dtype, c=0x44):
    return {"format": fmt, "l": frame[0], "c": c, "address": registry(mfr, id_text, version, dtype),
            "primary_address": None}


def link_wired(frame, c, a):
    return {"format": "wired_long_frame", "l": frame[1], "c": c, "address": None, "primary_address": a}


def tpl_obj(ci, acc=None, sts=None, config=None, ext=None, address=None):
    return {"ci": ci, "access_number": acc, "status": sts, "config": config, "config_extension": ext,
            "address": address}


def with_format(exp, frame, fmt):
    out = json.loads(json.dumps(exp))
    out["link"]["format"] = fmt
    out["link"]["l"] = frame[0]
    return out


# ---------------------------------------------------------------------------------------------------------------
# Public examples (values as their sources state)

ELS_METER = meter("ELS", "12345678", 51, 0x03)
OMS_STATED = {"volume_m3": "28504.27", "meter_time": "2008-05-31T23:50:00", "error_flags": 0}


def public_vectors():
    frame5 = bytes.fromhex(PUBLIC_MODE5)
    exp5 = expected(
        ELS_METER, link_w(frame5, "no_crc", "ELS", "12345678", 51, 0x03),
        tpl_obj(0x7A, 42, 0, 0x2520), oms_records(), True, 42,
        sec=security(5, "decrypted", encrypted_bytes=32), meter_time="2008-05-31T23:50:00")
    valid("oms-gas-mode5", "OMS Vol.2 Annex N.2.1 gas meter, security profile A (TPL mode 5, short header); "
          "public example", frame5, exp5, key=KEY_PUBLIC_MODE5, source="public", stated=OMS_STATED)
    fa = format_a(frame5)
    valid("oms-gas-mode5-format-a", "the mode-5 example with format-A DLL CRCs added", fa,
          with_format(exp5, fa, "format_a"), key=KEY_PUBLIC_MODE5, frame_format="format_a", stated=OMS_STATED)
    fb = format_b(frame5)
    valid("oms-gas-mode5-format-b", "the mode-5 example re-framed as format B (one CRC, L counts it); "
          "decoded with the explicit format-B option", fb, with_format(exp5, fb, "format_b"), key=KEY_PUBLIC_MODE5,
          frame_format="format_b", decode_format="format_b", stated=OMS_STATED)

    frame7 = bytes.fromhex(PUBLIC_MODE7)
    exp7 = expected(
        ELS_METER, link_w(frame7, "no_crc", "ELS", "12345678", 51, 0x03),
        tpl_obj(0x7A, 117, 0, 0x0720, 0x10), oms_records(), True, 117,
        sec=security(7, "decrypted", mac_verified=True, encrypted_bytes=32), meter_time="2008-05-31T23:50:00",
        ell={"ci": 0x8C, "cc": 32, "access_number": 117, "session_number": None, "address": None},
        afl={"fcl": 11264, "mcl": 37, "mcr": 2739, "mac": "21924D4F2FB66E01", "ml": None})
    valid("oms-gas-mode7", "OMS gas meter, security profile B: ELL 8C + AFL 90 (CMAC) + TPL short header mode 7 "
          "with KDF; public example", frame7, exp7, key=KEY, source="public", stated=OMS_STATED)
    fa = format_a(frame7)
    valid("oms-gas-mode7-format-a", "the mode-7 example with format-A DLL CRCs added", fa,
          with_format(exp7, fa, "format_a"), key=KEY, frame_format="format_a", stated=OMS_STATED)

    framew = bytes.fromhex(PUBLIC_WIRED)
    expw = expected(
        ELS_METER, link_wired(framew, 0x08, 0xFD),
        tpl_obj(0x72, 42, 0, 0x0000, address="ELS-12345678-51-03"), oms_records(), False, 42,
        meter_time="2008-05-31T23:50:00")
    valid("oms-gas-wired-plain", "OMS Annex N.2.2 wired M-Bus gas meter, no encryption (RSP_UD long frame); "
          "public example", framew, expw, medium="wired", frame_format="wired_long_frame", source="public",
          stated=OMS_STATED)
    return frame5, frame7, framew


# ---------------------------------------------------------------------------------------------------------------
# Constructed frames


def constructed_vectors(frame5, frame7, framew):
    # --- Vm and Vb channels and the common gas quantities, mode 0 --------------------------------------------
    records = [
        rec("0C943A", bcd(91700, 8), "volume", "integer", "917.00", "m3", -2, basis="uncorrected", ml="917000000"),
        rec("0C933E", bcd(6842784, 8), "volume", "integer", "6842.784", "m3", -3, basis="converted",
            ml="6842784000"),
        rec("4C14", bcd(123456, 8), "volume", "integer", "1234.56", "m3", -2, storage=1, ml="1234560000"),
        rec("8C1014", bcd(100, 8), "volume", "integer", "1.00", "m3", -2, tariff=1, ml="1000000"),
        rec("02FD74", struct.pack("<h", 4999), "battery_remaining", "integer", "4999", "d", vif_table="fd"),
        rec("02FD17", struct.pack("<H", 0x0004), "error_flags", "bits", 4, vif_table="fd"),
        rec("01FD71", struct.pack("<b", -61), "reception_level", "integer", "-61", "dBm", vif_table="fd"),
        rec("0265", struct.pack("<h", 2228), "external_temperature", "integer", "22.28", "degC", -2),
        rec("0269", struct.pack("<h", 100), "pressure", "integer", "1.00", "bar", -2),
        rec("0422", struct.pack("<i", 10000), "on_time", "integer", "10000", "h"),
        rec("0426", struct.pack("<i", 32), "operating_time", "integer", "32", "h"),
        rec("023B", struct.pack("<h", 300), "flow", "integer", "0.300", "m3/h", -3),
        rec("046D", date_f(2008, 5, 31, 23, 50, hundred=1), "date_time", "date", "2008-05-31T23:50:00"),
    ]
    gwf = ("GWF", "20240001", 0x3C, 0x03)
    frame = wireless(0x44, *gwf, tpl_short(0x10, 0x00, cfg(0)) + assemble(records))
    exp_gwf = expected(meter(*gwf), link_w(frame, "no_crc", *gwf), tpl_obj(0x7A, 16, 0, 0), records, False, 16,
                       alarms=["error_flags"], meter_time="2008-05-31T23:50:00")
    valid("gas-vm-vb-plain", "mode 0: uncorrected (Vm, VIFE 3A) and base-condition (Vb, VIFE 3E) volumes, a "
          "storage-1 and a tariff-1 volume, battery days (FD74), error flags (FD17, non-zero), reception level, "
          "external temperature, pressure, on/operating time, flow, meter time", frame, exp_gwf)
    fa = format_a(frame)
    valid("gas-vm-vb-plain-format-a", "gas-vm-vb-plain with format-A DLL CRCs", fa, with_format(exp_gwf, fa,
          "format_a"), frame_format="format_a")

    # --- Every date type and the sentinels, CI 78 (no TPL header) ---------------------------------------------
    records = [
        rec("026C", date_g(2021, 12, 31), "date", "date", "2021-12-31"),
        rec("046D", date_f(2008, 5, 31, 23, 50, hundred=1), "date_time", "date", "2008-05-31T23:50:00"),
        rec("066D", date_i(2024, 2, 29, 12, 34, 56), "date_time", "date", "2024-02-29T12:34:56"),
        rec("426C", bytes.fromhex("0000"), "date", "date", None, storage=1),
        rec("82016C", bytes.fromhex("E1F1"), "date", "date", None, storage=2),
        rec("446D", date_f(2008, 5, 31, 23, 50, invalid=True), "date_time", "date", None, storage=1),
        rec("036D", bytes.fromhex("010203"), "date_time", "invalid", None),
        rec("04FD70", date_f(2020, 1, 15, 8, 0), "battery_change_date", "date", "2020-01-15T08:00:00",
            vif_table="fd"),
        rec("446D", date_f(2008, 5, 31, 23, 50, hundred=2), "date_time", "invalid", None, storage=1),
        rec("046D", date_f(2019, 7, 1, 6, 5, hundred=0), "date_time", "date", "2019-07-01T06:05:00"),
    ]
    els42 = ("ELS", "00000042", 1, 0x03)
    frame = wireless(0x44, *els42, bytes([0x78]) + assemble(records))
    valid("dates-every-type", "CI 78 (no TPL header): type G date, type F (HY = 1 and HY = 0) and type I date-times, "
          "the all-zero and 2127 (E1 F1) sentinels, the type-F invalid flag, a 3-byte date-time (invalid), "
          "HY = 2 (invalid), FD70 battery change date; meter time = the first storage-0 date-time", frame,
          expected(meter(*els42), link_w(frame, "no_crc", *els42), tpl_obj(0x78), records, False, None,
                   status=None, meter_time="2008-05-31T23:50:00"))

    # --- BCD sign and invalid digits, 12-digit BCD, int64/int24, real, LVAR, plain-text VIF, 0F -----------------
    records = [
        rec("0B5A", bytes.fromhex("4000F0"), "flow_temperature", "integer", "-4.0", "degC", -1),
        rec("0C13", bytes.fromhex("FEFEFEFE"), "volume", "invalid", None, "m3", -3),
        rec("0E13", bcd(123456789012, 12), "volume", "integer", "123456789.012", "m3", -3, ml="123456789012000"),
        rec("0713", struct.pack("<q", 1), "volume", "integer", "0.001", "m3", -3, ml="1000"),
        rec("0313", bytes.fromhex("FFFFFF"), "volume", "integer", "-0.001", "m3", -3, ml="-1000"),
        rec("052B", struct.pack("<f", 1.5), "power", "real", "1.5", "W", 0),
        rec("0D78", b"321CBA", "fabrication_number", "text", "ABC123", lvar=0x06),
        rec("0DFD11", bytes.fromhex("563412"), "customer", "integer", "123456", vif_table="fd", lvar=0xC3),
        rec("0DFD10", bytes.fromhex("3412"), "customer_location", "integer", "-1234", vif_table="fd", lvar=0xD2),
        rec("0DFD0C", bytes.fromhex("010203"), "model_version", "bytes", None, vif_table="fd", lvar=0xE3),
        rec(bytes.fromhex("0C7C02") + b"3m", bcd(1000, 8), "plain_text_unit", "integer", "1000", "m3",
            vif_table="plain_text"),
    ]
    lgb = ("LGB", "88776655", 7, 0x03)
    manufacturer = bytes.fromhex("0F010203")
    frame = wireless(0x44, *lgb, tpl_short(0x22, 0x00, cfg(0)) + assemble(records) + manufacturer)
    valid("values-bcd-lvar-real", "BCD with F sign nibble (-4.0), BCD with E digits (invalid, never coerced), "
          "12-digit BCD, int64 and negative int24 volumes, 32-bit real, LVAR ASCII (reversed), LVAR positive and "
          "negative BCD, LVAR binary (kept raw), plain-text VIF 7C, manufacturer data after 0F", frame,
          expected(meter(*lgb), link_w(frame, "no_crc", *lgb), tpl_obj(0x7A, 0x22, 0, 0), records, False, 0x22,
                   manufacturer_data="010203"))

    # --- Orthogonal VIFEs, DIFE storage/tariff/subunit, function field ------------------------------------------
    records = [
        rec("04933B", struct.pack("<i", 10000), "volume", "integer", "10.000", "m3", -3, accumulation="forward_only",
            ml="10000000"),
        rec("04933C", struct.pack("<i", 100), "volume", "integer", "0.100", "m3", -3, accumulation="backward_only",
            ml="100000"),
        rec("0493FF01", struct.pack("<i", 1), "volume", "integer", "0.001", "m3", -3, modifier="0x7F", ml="1000"),
        rec("049374", struct.pack("<i", 5), "volume", "integer", "0.005", "m3", -3, modifier="0x74", ml="5000"),
        rec("0493BA3E", struct.pack("<i", 7), "volume", "integer", "0.007", "m3", -3, basis="uncorrected",
            modifier="0x3E", ml="7000"),
        rec("049322", struct.pack("<i", 8), "volume", "integer", "0.008", "m3", -3, modifier="0x22", ml="8000"),
        rec("844013", struct.pack("<i", 9), "volume", "integer", "0.009", "m3", -3, subunit=1, ml="9000"),
        rec("C40113", struct.pack("<i", 10), "volume", "integer", "0.010", "m3", -3, storage=3, ml="10000"),
        rec("1413", struct.pack("<i", 11), "volume", "integer", "0.011", "m3", -3, function="maximum", ml="11000"),
        rec("848F0F13", struct.pack("<i", 12), "volume", "integer", "0.012", "m3", -3, storage=510, ml="12000"),
    ]
    els3 = ("ELS", "11223344", 0x33, 0x03)
    frame = wireless(0x44, *els3, tpl_short(0x30, 0x00, cfg(0)) + assemble(records))
    valid("vife-difes", "VIFE 3B/3C (forward/backward only), manufacturer VIFE FF, correction factor 74, both 3A "
          "and 3E, per-hour 22 (modifiers: not readings), DIFE subunit, storage 3 and 510, maximum function", frame,
          expected(meter(*els3), link_w(frame, "no_crc", *els3), tpl_obj(0x7A, 0x30, 0, 0), records, False, 0x30))

    # --- STS alarm bits ---------------------------------------------------------------------------------------
    records = [rec("0C14", bcd(2850427, 8), "volume", "integer", "28504.27", "m3", -2, ml="28504270000")]
    frame = wireless(0x44, "ELS", "12345678", 51, 0x03, tpl_short(0x21, 0x33, cfg(0)) + assemble(records))
    valid("status-alarm-bits", "STS 0x33 = alarm (bits 1-0 = 11) + temporary error + manufacturer bit 5", frame,
          expected(ELS_METER, link_w(frame, "no_crc", "ELS", "12345678", 51, 0x03), tpl_obj(0x7A, 0x21, 0x33, 0),
                   records, False, 0x21,
                   status={"raw": 0x33, "application": "alarm",
                           "bits": ["alarm", "temporary_error", "manufacturer_bit5"]},
                   alarms=["alarm", "temporary_error"]))

    # --- Alarm telegram CI 74 ---------------------------------------------------------------------------------
    frame = wireless(0x44, "ELS", "12345678", 51, 0x03, bytes([0x74, 0x05, 0x03]) + struct.pack("<H", 0) + b"\x01")
    valid("alarm-telegram-ci74", "CI 74 (alarm, short header): header and STS decoded, alarm content kept raw",
          frame, expected(ELS_METER, link_w(frame, "no_crc", "ELS", "12345678", 51, 0x03),
                          tpl_obj(0x74, 5, 3, 0), [], False, 5,
                          status={"raw": 3, "application": "alarm", "bits": ["alarm"]},
                          alarms=["alarm", "alarm_telegram"], kind="alarm", payload_hex="01"))

    # --- Retrofit radio module: DLL = DME radio converter, TPL long header = ELS gas meter, mode 5 ---------------
    plain = pad16(b"\x2f\x2f" + assemble(oms_records()))
    els = ("ELS", "12345678", 51, 0x03)
    enc = mode5_encrypt(KEY, address_bytes(*els), 0x42, plain)
    dme = ("DME", "70012345", 1, 0x37)
    frame = wireless(0x44, *dme, tpl_long(*els, 0x42, 0x00, cfg(5, 2, synchronous=True)) + enc)
    valid("retrofit-module-mode5", "identity rule: DLL = DME radio converter (type 37), TPL long header = ELS gas "
          "meter; mode 5 key lookup and IV use the TPL address", frame,
          expected(ELS_METER, link_w(frame, "no_crc", *dme), tpl_obj(0x72, 0x42, 0, 0x2520, address=registry(*els)),
                   oms_records(), True, 0x42, sec=security(5, "decrypted", encrypted_bytes=32),
                   meter_time="2008-05-31T23:50:00"), key=KEY)

    # --- Mode 5 with one encrypted block and a plaintext tail ---------------------------------------------------
    head = [rec("0C14", bcd(2850427, 8), "volume", "integer", "28504.27", "m3", -2, ml="28504270000"),
            rec("046D", date_f(2008, 5, 31, 23, 50, hundred=1), "date_time", "date", "2008-05-31T23:50:00")]
    tail = [rec("02FD17", bytes.fromhex("0000"), "error_flags", "bits", 0, vif_table="fd"),
            rec("0C14", bcd(1000000, 8), "volume", "integer", "10000.00", "m3", -2, ml="10000000000")]
    plain = pad16(b"\x2f\x2f" + assemble(head))
    assert len(plain) == 16
    enc = mode5_encrypt(KEY, address_bytes(*els), 0x43, plain)
    frame = wireless(0x44, *els, tpl_short(0x43, 0x00, cfg(5, 1)) + enc + assemble(tail))
    valid("mode5-partial-encryption", "mode 5 with one encrypted block; the records after it are plaintext and "
          "marked protected = false (anyone could have appended them)", frame,
          expected(ELS_METER, link_w(frame, "no_crc", *els), tpl_obj(0x7A, 0x43, 0, 0x0510), head + tail,
                   [True, True, False, False], 0x43, sec=security(5, "decrypted", encrypted_bytes=16),
                   meter_time="2008-05-31T23:50:00"), key=KEY)

    # --- ELL 8D with AES-CTR (Kamstrup style: CI 78 inside) -----------------------------------------------------
    kam = ("KAM", "55667788", 0x1B, 0x03)
    sn = (1 << 29) | (0x123456 << 4) | 3
    inner = bytes([0x78]) + assemble(oms_records())
    body = bytes([0x8D, 0x20, 0x5A]) + struct.pack("<I", sn) + ell_ctr(KEY, address_bytes(*kam), 0x20, sn, inner)
    frame = wireless(0x44, *kam, body)
    exp_ell = expected(meter(*kam), link_w(frame, "no_crc", *kam), tpl_obj(0x78), oms_records(), True, 0x5A,
                       status=None, sec=security(0, ell="decrypted"), meter_time="2008-05-31T23:50:00",
                       ell={"ci": 0x8D, "cc": 0x20, "access_number": 0x5A, "session_number": sn, "address": None})
    valid("ell-8d-ctr", "ELL 8D with ENC = 1 (AES-128-CTR, IV = DLL M A, CC, SN), PayloadCRC checked, CI 78 "
          "inside", frame, exp_ell, key=KEY)
    fa = format_a(frame)
    valid("ell-8d-ctr-format-a", "ell-8d-ctr with format-A DLL CRCs", fa, with_format(exp_ell, fa, "format_a"),
          key=KEY, frame_format="format_a")
    ell_8d = frame

    # --- ELL 8F with AES-CTR, CC 30 (hop counter bit masked in the IV), ELL address in the IV ---------------------
    ell_address = ("ELS", "99000001", 2, 0x32)
    sn = (1 << 29) | (0x000ABC << 4) | 1
    inner = tpl_short(0x77, 0x00, cfg(0)) + b"\x2f\x2f" + assemble(oms_records())
    body = (bytes([0x8F, 0x30, 0x76]) + address_bytes(*ell_address) + struct.pack("<I", sn)
            + ell_ctr(KEY, address_bytes(*ell_address), 0x30, sn, inner))
    frame = wireless(0x44, *els, body)
    # The ELL's key is that of its own address, not the meter's (the DLL address: no long header), so it protects
    # nothing of the meter's: the records are not protected and there is no key source.
    valid("ell-8f-ctr-hop", "ELL 8F with CC 30 (hop counter set; the IV uses CC AND EF) and its own address in "
          "the IV; TPL short header inside; the ELL address is not the meter's, so the ELL protects nothing of the "
          "meter's", frame,
          expected(ELS_METER, link_w(frame, "no_crc", *els), tpl_obj(0x7A, 0x77, 0, 0), oms_records(), False, 0x77,
                   sec=dict(security(0, ell="decrypted"), ell_key_foreign=True), meter_time="2008-05-31T23:50:00",
                   ell={"ci": 0x8F, "cc": 0x30, "access_number": 0x76, "session_number": sn,
                        "address": registry(*ell_address)}), key=KEY)

    # --- Mode 7 with a long TPL header behind a radio module, AFL with ML ---------------------------------------
    mcr = 3082
    plain = pad16(b"\x2f\x2f" + assemble(oms_records()))
    body, fcl, mcl, mac = mode7_body(KEY, id_bytes("12345678"), 0x20, 0x11, mcr,
                                     tpl_long(*els, 0x11, 0x00, cfg(7, 2, bidirectional=True)), 0x10, plain,
                                     with_ml=True)
    frame = wireless(0x44, *dme, body)
    ml = 13 + 1 + 32
    valid("mode7-long-header-ml", "mode 7 behind a DME radio module: KDF and MAC use the TPL long-header ID; AFL "
          "carries ML, which the MAC covers", frame,
          expected(ELS_METER, link_w(frame, "no_crc", *dme),
                   tpl_obj(0x72, 0x11, 0, cfg(7, 2, bidirectional=True), 0x10, address=registry(*els)),
                   oms_records(), True, 0x11, sec=security(7, "decrypted", mac_verified=True, encrypted_bytes=32),
                   meter_time="2008-05-31T23:50:00",
                   ell={"ci": 0x8C, "cc": 0x20, "access_number": 0x11, "session_number": None, "address": None},
                   afl={"fcl": fcl, "mcl": mcl, "mcr": mcr, "mac": mac.hex().upper(), "ml": ml}), key=KEY)
    mode7_long = frame

    # --- Already decrypted (wmbusmeters test-data convention) ----------------------------------------------------
    plain = pad16(b"\x2f\x2f" + assemble(oms_records()))
    already5 = wireless(0x44, *els, tpl_short(0x2A, 0x00, cfg(5, 2, synchronous=True)) + plain)
    valid("already-decrypted-mode5", "mode 5 header but plaintext starting 2F 2F; no key configured and the caller "
          "allows already-decrypted frames (decode tool, replay)", already5,
          expected(ELS_METER, link_w(already5, "no_crc", *els), tpl_obj(0x7A, 0x2A, 0, 0x2520), oms_records(), False,
                   0x2A, sec=security(5, "already_decrypted", encrypted_bytes=32), meter_time="2008-05-31T23:50:00"),
          allow=True)
    inner = bytes([0x78]) + assemble(oms_records())
    sn = (1 << 29) | (0x000777 << 4)
    already_ell = wireless(0x44, *kam, bytes([0x8D, 0x20, 0x5B]) + struct.pack("<I", sn)
                           + struct.pack("<H", crc16_en13757(inner)) + inner)
    valid("already-decrypted-ell", "ELL 8D with ENC = 1 but plaintext whose PayloadCRC already matches; no key, "
          "allowed", already_ell,
          expected(meter(*kam), link_w(already_ell, "no_crc", *kam), tpl_obj(0x78), oms_records(), False, 0x5B,
                   status=None, sec=security(0, ell="already_decrypted"), meter_time="2008-05-31T23:50:00",
                   ell={"ci": 0x8D, "cc": 0x20, "access_number": 0x5B, "session_number": sn, "address": None}),
          allow=True)
    already_mode7_body, fcl, mcl, mac = mode7_body(KEY, id_bytes("12345678"), 0x20, 0x12, 99,
                                                   tpl_short(0x12, 0x00, cfg(7, 2)), 0x10, plain)
    # Replace the ciphertext with the plaintext (the MAC no longer matches, as in converted test data).
    already7 = wireless(0x44, *els, already_mode7_body[:-32] + plain)
    valid("already-decrypted-mode7", "mode 7 frame whose ciphertext was replaced by the plaintext; no key, allowed: "
          "decoded without MAC verification", already7,
          expected(ELS_METER, link_w(already7, "no_crc", *els), tpl_obj(0x7A, 0x12, 0, 0x0720, 0x10), oms_records(),
                   False, 0x12, sec=security(7, "already_decrypted", encrypted_bytes=32),
                   meter_time="2008-05-31T23:50:00",
                   ell={"ci": 0x8C, "cc": 0x20, "access_number": 0x12, "session_number": None, "address": None},
                   afl={"fcl": fcl, "mcl": mcl, "mcr": 99, "mac": mac.hex().upper(), "ml": None}), allow=True)

    # --- Wired long frames ----------------------------------------------------------------------------------------
    records = [
        rec("0C943A", bcd(91700, 8), "volume", "integer", "917.00", "m3", -2, basis="uncorrected", ml="917000000"),
        rec("0C933E", bcd(6842784, 8), "volume", "integer", "6842.784", "m3", -3, basis="converted",
            ml="6842784000"),
        rec("046D", date_f(2024, 3, 1, 0, 15, hundred=1), "date_time", "date", "2024-03-01T00:15:00"),
        rec("02FD17", bytes.fromhex("0000"), "error_flags", "bits", 0, vif_table="fd"),
    ]
    gwf_w = ("GWF", "87654321", 0x3C, 0x03)
    frame = wired(0x08, 0x01, tpl_long(*gwf_w, 0x09, 0x00, 0) + assemble(records))
    valid("wired-vm-vb", "wired RSP_UD long frame (primary address 1) with Vm and Vb volumes", frame,
          expected(meter(*gwf_w), link_wired(frame, 0x08, 0x01),
                   tpl_obj(0x72, 9, 0, 0, address=registry(*gwf_w)), records, False, 9,
                   meter_time="2024-03-01T00:15:00"), medium="wired", frame_format="wired_long_frame")
    wired_vm_vb = frame
    plain = pad16(b"\x2f\x2f" + assemble(oms_records()))
    enc = mode5_encrypt(KEY, address_bytes(*els), 0x2B, plain)
    frame = wired(0x08, 0xFD, tpl_long(*els, 0x2B, 0x00, cfg(5, 2)) + enc)
    valid("wired-mode5", "wired long frame, long header, mode 5 (IV from the TPL address)", frame,
          expected(ELS_METER, link_wired(frame, 0x08, 0xFD), tpl_obj(0x72, 0x2B, 0, 0x0520, address=registry(*els)),
                   oms_records(), True, 0x2B, sec=security(5, "decrypted", encrypted_bytes=32),
                   meter_time="2008-05-31T23:50:00"), key=KEY, medium="wired", frame_format="wired_long_frame")

    # --- More records than the decoder keeps ----------------------------------------------------------------------
    records = [rec("0213", struct.pack("<h", i + 1), "volume", "integer", "0.%03d" % (i + 1), "m3", -3,
                   ml=str((i + 1) * 1000)) for i in range(35)]
    frame = wireless(0x44, *els3, tpl_short(0x31, 0x00, cfg(0)) + assemble(records))
    exp_many = expected(meter(*els3), link_w(frame, "no_crc", *els3), tpl_obj(0x7A, 0x31, 0, 0), records[:32],
                        False, 0x31, dropped=3)
    valid("many-records", "35 records: the first 32 are kept, 3 are parsed and counted as dropped", frame, exp_many)
    fa = format_a(frame)
    valid("many-records-format-a", "many-records with format-A DLL CRCs (10 data blocks)", fa,
          with_format(exp_many, fa, "format_a"), frame_format="format_a")
    fb = format_b(frame)
    valid("many-records-format-b", "many-records as format B with a third block (frame longer than 128 bytes); "
          "decoded with the explicit format-B option", fb, with_format(exp_many, fb, "format_b"),
          frame_format="format_b", decode_format="format_b")
    many = frame

    return {"ell_8d": ell_8d, "already5": already5, "already_ell": already_ell, "already7": already7,
            "mode7_long": mode7_long, "wired_vm_vb": wired_vm_vb, "many": many}


# ---------------------------------------------------------------------------------------------------------------
# Rejected frames


def peek(meter_address, mode=None, tpl_ci=None, access=None):
    return {"readable": True, "meter": meter_address, "security_mode": mode, "tpl_ci": tpl_ci,
            "access_number": access}


UNREADABLE = {"readable": False}


def rejected_vectors(frame5, frame7, framew, made):
    els = ("ELS", "12345678", 51, 0x03)
    els_address = registry(*els)
    rejected("mode5-wrong-key", "the public mode-5 example decrypted with another key: no 2F 2F", frame5,
             "wrong_key", key=KEY, peek=peek(els_address, 5, 0x7A, 42))
    rejected("mode5-no-key", "the public mode-5 example with no key registered (live pipeline)", frame5,
             "unknown_meter", peek=peek(els_address, 5, 0x7A, 42))
    rejected("mode5-no-key-allowed", "no key, already-decrypted allowed, but the content is real ciphertext",
             frame5, "unknown_meter", allow=True)
    rejected("mode7-wrong-key", "the public mode-7 example with another key: the AFL MAC does not verify", frame7,
             "bad_mac", key=KEY_WRONG, peek=peek(els_address, 7, 0x7A, 117))
    rejected("mode7-no-key", "the public mode-7 example with no key registered", frame7, "unknown_meter")
    rejected("ell-ctr-wrong-key", "ELL 8D AES-CTR with another key: the PayloadCRC does not match",
             made["ell_8d"], "wrong_key", key=KEY_WRONG, peek={"readable": True, "meter": "KAM-55667788-27-03",
                                                               "security_mode": None, "tpl_ci": None,
                                                               "access_number": None})
    rejected("already-decrypted-mode5-with-key", "already-decrypted mode-5 frame while a key is registered",
             made["already5"], "already_decrypted", key=KEY)
    rejected("already-decrypted-mode5-live", "already-decrypted mode-5 frame, no key, not allowed (live pipeline)",
             made["already5"], "unknown_meter")
    rejected("already-decrypted-ell-with-key", "already-decrypted ELL frame while a key is registered",
             made["already_ell"], "already_decrypted", key=KEY)
    rejected("already-decrypted-mode7-with-key", "mode-7 frame whose ciphertext was replaced by plaintext, with a "
             "key: the MAC fails and the content looks decrypted", made["already7"], "already_decrypted", key=KEY)
    rejected("mode7-wrong-key-long-header", "mode 7 with a long header and ML, wrong key", made["mode7_long"],
             "bad_mac", key=KEY_WRONG)

    def w(body, mfr="ELS", id_text="12345678", version=51, dtype=0x03, c=0x44):
        return wireless(c, mfr, id_text, version, dtype, body)

    blob = bytes(range(0x40, 0x60))
    rejected("mode9-elster-gas", "ELS version 50 gas meter with CFG 01 29 (mode 9, AES-GCM): header still readable",
             w(tpl_short(0x50, 0x00, 0x2901) + blob, version=0x50), "unsupported_security_mode",
             key=KEY, peek=peek("ELS-12345678-80-03", 9, 0x7A, 0x50))
    rejected("mode10", "TPL security mode 10 (AES-CCM)", w(tpl_short(0x51, 0x00, cfg(10)) + blob),
             "unsupported_security_mode", key=KEY, peek=peek(els_address, 10, 0x7A, 0x51))
    rejected("mode8", "TPL security mode 8", w(tpl_short(0x52, 0x00, cfg(8)) + blob), "unsupported_security_mode",
             key=KEY, peek=peek(els_address, 8, 0x7A, 0x52))
    rejected("mode1", "TPL security mode 1 (manufacturer specific)", w(tpl_short(0x53, 0x00, cfg(1)) + blob),
             "unsupported_security_mode", key=KEY, peek=peek(els_address, 1, 0x7A, 0x53))
    rejected("mode9-no-key", "mode 9 without a key is still unsupported_security_mode, not unknown_meter",
             w(tpl_short(0x50, 0x00, 0x2901) + blob, version=0x50), "unsupported_security_mode")
    rejected("wired-mode9", "wired long frame with mode 9: header readable",
             wired(0x08, 0xFD, tpl_long(*els, 0x2C, 0x00, cfg(9)) + blob), "unsupported_security_mode", key=KEY,
             medium="wired", peek=peek(els_address, 9, 0x72, 0x2C))
    sn2 = (2 << 29) | 5
    rejected("ell-enc-2", "ELL session number with ENC = 2", w(bytes([0x8D, 0x20, 0x01]) + struct.pack("<I", sn2)
             + bytes(20)), "unsupported_security_mode", key=KEY)
    fields = struct.pack("<H", 0x2C00) + bytes([0x24]) + struct.pack("<I", 1) + bytes(8)
    rejected("afl-auth-type-4", "AFL with authentication type 4",
             w(bytes([0x8C, 0x20, 0x01, 0x90, len(fields)]) + fields + tpl_short(1, 0, cfg(7, 2)) + b"\x10"
               + bytes(32)), "unsupported_security_mode", key=KEY)
    body, _, _, _ = mode7_body(KEY, id_bytes("12345678"), 0x20, 0x13, 7, tpl_short(0x13, 0, cfg(7, 2)), 0x20,
                               pad16(b"\x2f\x2f" + assemble(oms_records())))
    rejected("mode7-kdf-2", "mode 7 with KDF selection 2", w(body), "unsupported_security_mode", key=KEY)
    rejected("mode7-without-afl", "mode 7 without the AFL (no MCR for the KDF, no MAC)",
             w(tpl_short(0x14, 0, cfg(7, 2)) + b"\x10" + bytes(32)), "bad_frame", key=KEY)
    fields = struct.pack("<H", 0x2C00) + bytes([0x25]) + struct.pack("<I", 1) + bytes(8)
    rejected("afl-mac-with-mode5", "AFL MAC with TPL mode 5",
             w(bytes([0x8C, 0x20, 0x01, 0x90, len(fields)]) + fields + tpl_short(1, 0, cfg(5, 2)) + bytes(32)),
             "unsupported_security_mode", key=KEY)
    fields = struct.pack("<H", 0x6C00) + bytes([0x25]) + struct.pack("<I", 1) + bytes(8)
    rejected("afl-fragmented", "AFL with the more-fragments bit",
             w(bytes([0x8C, 0x20, 0x01, 0x90, len(fields)]) + fields + tpl_short(1, 0, cfg(7, 2)) + b"\x10"
               + bytes(32)), "unsupported_frame", key=KEY)
    rejected("compact-frame-ci79", "compact frame whose format signature names no known layout (none given)",
             w(bytes([0x79, 0x12, 0x34, 0x56, 0x78]) + bytes(8)), "unknown_format", key=KEY,
             peek={"readable": True, "meter": els_address, "security_mode": 0, "tpl_ci": 0x79,
                   "access_number": None})
    rejected("format-frame-ci69", "format frame", w(bytes([0x69]) + bytes(8)), "unsupported_frame", key=KEY)
    rejected("manufacturer-ci-a2", "manufacturer-specific CI", w(bytes([0xA2]) + bytes(8)), "unsupported_frame",
             key=KEY)
    rejected("dlms-ci-7c", "DLMS/COSEM inside M-Bus", w(bytes([0x7C]) + bytes(8)), "unsupported_frame", key=KEY)
    rejected("c-field-ack", "C = 00 (ACK) is not a data telegram", w(tpl_short(1, 0, 0) + b"\x2f\x2f", c=0x00),
             "unsupported_frame", key=KEY)
    rejected("wired-short-frame", "wired short frame REQ_UD2 to address FE", bytes.fromhex("105BFE5916"),
             "unsupported_frame", medium="wired", peek=UNREADABLE)
    rejected("wired-single-character", "wired single character E5", bytes.fromhex("E5"), "unsupported_frame",
             medium="wired", peek=UNREADABLE)
    rejected("wired-ci-7a", "wired long frame with a short TPL header: no meter identity",
             wired(0x08, 0x01, tpl_short(1, 0, 0) + bytes.fromhex("0C1427048502")), "unsupported_frame",
             medium="wired")
    good = bytearray(framew)
    bad = bytearray(good)
    bad[-2] ^= 0x01
    rejected("wired-bad-checksum", "public wired frame with its checksum changed", bytes(bad), "bad_checksum",
             medium="wired", peek=UNREADABLE)
    bad = bytearray(good)
    bad[10] ^= 0x40
    rejected("wired-data-byte-changed", "public wired frame with a data byte changed", bytes(bad), "bad_checksum",
             medium="wired")
    bad = bytearray(good)
    bad[-1] = 0x17
    rejected("wired-bad-stop", "stop byte 17", bytes(bad), "bad_frame", medium="wired")
    bad = bytearray(good)
    bad[2] = 0x21
    rejected("wired-l-mismatch", "the two L fields differ", bytes(bad), "bad_length", medium="wired")
    bad = bytearray(good)
    bad[0] = 0x69
    rejected("wired-bad-start", "start byte 69", bytes(bad), "bad_frame", medium="wired")
    bad = bytearray(good)
    bad[3] = 0x67
    rejected("wired-bad-second-start", "second start byte 67", bytes(bad), "bad_frame", medium="wired")
    rejected("wired-extra-byte", "one byte after the stop byte", framew + b"\x00", "bad_length", medium="wired")
    rejected("wired-truncated", "wired frame without its last 3 bytes", framew[:-3], "truncated", medium="wired")
    rejected("wired-l-below-3", "L = 2", bytes.fromhex("68020268087278A016")[:8] + bytes([0x16]), "bad_length",
             medium="wired")

    fa5 = format_a(frame5)
    block_starts = [(0, 10)] + [(12 + 18 * i, min(16, 37 - 16 * i)) for i in range(3)]
    for index, (start, size) in enumerate(block_starts):
        bad = bytearray(fa5)
        bad[start + size - 1] ^= 0x10
        rejected("format-a-bad-crc-block-%d" % (index + 1), "mode-5 example in format A with a byte of block %d "
                 "changed" % (index + 1), bytes(bad), "bad_crc", key=KEY_PUBLIC_MODE5, peek=UNREADABLE)
    fa7 = format_a(frame7)
    bad = bytearray(fa7)
    bad[-1] ^= 0x01
    rejected("format-a-bad-crc-last-block", "mode-7 example in format A with the last CRC byte changed", bytes(bad),
             "bad_crc", key=KEY)
    fb_many = format_b(made["many"])
    bad = bytearray(fb_many)
    bad[60] ^= 0x01
    rejected("format-b-bad-crc-block-2", "many-records in format B with a byte of block 2 changed", bytes(bad),
             "bad_crc", decode_format="format_b")
    bad = bytearray(fb_many)
    bad[140] ^= 0x01
    rejected("format-b-bad-crc-block-3", "many-records in format B with a byte of block 3 changed", bytes(bad),
             "bad_crc", decode_format="format_b")
    rejected("format-b-too-short", "format B with L = 11 (no room for a CI)",
             bytes([11]) + bytes(9) + bytes([0x7A, 0x00]), "bad_length", decode_format="format_b")
    rejected("l-below-10", "L = 5", bytes.fromhex("0544931578"), "bad_length", peek=UNREADABLE)
    rejected("empty", "no bytes", b"", "truncated", peek=UNREADABLE)
    rejected("format-a-extra-byte", "format-A frame with one extra byte", fa5 + b"\x00", "bad_length",
             key=KEY_PUBLIC_MODE5)
    rejected("format-a-truncated", "format-A frame without its last CRC byte", fa5[:-1], "truncated",
             key=KEY_PUBLIC_MODE5)
    rejected("no-crc-truncated", "mode-5 example without its last byte", frame5[:-1], "truncated",
             key=KEY_PUBLIC_MODE5)
    rejected("no-crc-truncated-header", "mode-5 example cut inside the DLL header", frame5[:7], "truncated",
             key=KEY_PUBLIC_MODE5)

    rejected("dif-reserved-3f", "DIF 3F (reserved special function)",
             w(tpl_short(1, 0, 0) + bytes.fromhex("0C1427048502") + b"\x3f"), "unsupported_frame")
    rejected("global-readout-7f", "DIF 7F (global readout request) in a meter telegram",
             w(tpl_short(1, 0, 0) + b"\x7f"), "unsupported_frame")
    rejected("lvar-f5", "LVAR F5 (length not supported)", w(tpl_short(1, 0, 0) + bytes.fromhex("0DFD11F5") + bytes(8)),
             "unsupported_frame")
    rejected("eleven-difes", "a DIF with 11 DIFEs", w(tpl_short(1, 0, 0) + b"\x84" + b"\x80" * 10 + b"\x00\x13"
                                                       + bytes(4)), "bad_frame")
    rejected("eleven-vifes", "a VIF with 11 VIFEs", w(tpl_short(1, 0, 0) + b"\x04\x93" + b"\xBA" * 10 + b"\x3A"
                                                       + bytes(4)), "bad_frame")
    rejected("record-cut-off", "the last record's data is cut off (L consistent)",
             w(tpl_short(1, 0, 0) + bytes.fromhex("0C14270485")), "truncated")
    rejected("dife-missing", "a DIF announces a DIFE at the end", w(tpl_short(1, 0, 0) + b"\x8C"), "truncated")
    rejected("vif-missing", "a DIF without VIF at the end", w(tpl_short(1, 0, 0) + b"\x0C"), "truncated")
    rejected("mode5-blocks-exceed", "CFG declares 3 encrypted blocks, the frame holds 2",
             w(tpl_short(0x2A, 0, cfg(5, 3)) + bytes(32)), "bad_length", key=KEY)
    rejected("mode5-not-whole-blocks", "CFG blocks = 0 (whole rest) but the rest is 20 bytes",
             w(tpl_short(0x2A, 0, cfg(5, 0)) + bytes(20)), "bad_length", key=KEY)
    rejected("tpl-truncated", "a short TPL header cut off", w(bytes([0x7A, 0x01])), "truncated")
    rejected("ell-truncated", "ELL 8F cut off", w(bytes([0x8F, 0x20, 0x01, 0x02])), "truncated")
    rejected("afl-afll-exceeds", "AFLL beyond the frame", w(bytes([0x8C, 0x20, 0x01, 0x90, 0x30, 0x00, 0x2C])),
             "truncated")


# ---------------------------------------------------------------------------------------------------------------
# Manufacturer default keys (issue 12, point 3)

# The all-zero key the Apator examples use (/work/shared/reference/protocols.md §2.7): a published key, so frames
# opened with it are decoded but carry no protection (key_source "default", protection plain).
KEY_ZERO = bytes(16)


def default_key_vectors():
    """Frames of a keyless Apator gas meter encrypted with the all-zero default key, decoded by trying the listed
    default keys in order (no key of the meter's own). Kept apart from "valid"/"rejected", whose consumers give every
    vector one key; each entry adds "default_keys"."""
    first_valid, first_rejected = len(VALID), len(REJECTED)
    apa = ("APA", "00012345", 0x05, 0x03)
    apa_meter = meter(*apa)
    plain = pad16(b"\x2f\x2f" + assemble(oms_records()))
    keys = [KEY_WRONG.hex().upper(), KEY_ZERO.hex().upper()]

    enc = mode5_encrypt(KEY_ZERO, address_bytes(*apa), 0x31, plain)
    frame5 = wireless(0x44, *apa, tpl_short(0x31, 0x00, cfg(5, 2)) + enc)
    sec5 = dict(security(5, "decrypted", encrypted_bytes=32), key_source="default")
    valid("default-key-mode5", "mode 5 encrypted with the all-zero Apator default key; the meter has no key of its "
          "own, a wrong default is tried first", frame5,
          expected(apa_meter, link_w(frame5, "no_crc", *apa), tpl_obj(0x7A, 0x31, 0, cfg(5, 2)), oms_records(), True,
                   0x31, sec=sec5, meter_time="2008-05-31T23:50:00"))

    mcr = 4711
    body, fcl, mcl, mac = mode7_body(KEY_ZERO, id_bytes(apa[1]), 0x20, 0x32, mcr, tpl_short(0x32, 0x00, cfg(7, 2)),
                                     0x10, plain)
    frame7 = wireless(0x44, *apa, body)
    sec7 = dict(security(7, "decrypted", mac_verified=True, encrypted_bytes=32), key_source="default")
    valid("default-key-mode7", "mode 7 (ELL 8C + AFL MAC + KDF) with the all-zero Apator default key; MAC verified, "
          "but with a published key", frame7,
          expected(apa_meter, link_w(frame7, "no_crc", *apa), tpl_obj(0x7A, 0x32, 0, 0x0720, 0x10), oms_records(),
                   True, 0x32, sec=sec7, meter_time="2008-05-31T23:50:00",
                   ell={"ci": 0x8C, "cc": 0x20, "access_number": 0x32, "session_number": None, "address": None},
                   afl={"fcl": fcl, "mcl": mcl, "mcr": mcr, "mac": mac.hex().upper(), "ml": None}))

    inner = bytes([0x78]) + assemble(oms_records())
    sn = (1 << 29) | (0x000123 << 4)
    frame_ell = wireless(0x44, *apa, bytes([0x8D, 0x20, 0x33]) + struct.pack("<I", sn)
                         + ell_ctr(KEY_ZERO, address_bytes(*apa), 0x20, sn, inner))
    valid("default-key-ell", "ELL AES-CTR with the all-zero Apator default key after a wrong one (its CTR pass is "
          "undone before the next key)", frame_ell,
          expected(apa_meter, link_w(frame_ell, "no_crc", *apa), tpl_obj(0x78), oms_records(), True, 0x33, status=None,
                   sec=dict(security(0, ell="decrypted"), key_source="default"), meter_time="2008-05-31T23:50:00",
                   ell={"ci": 0x8D, "cc": 0x20, "access_number": 0x33, "session_number": sn, "address": None}))

    rejected("default-key-none-opens-mode5", "mode 5 with the zero key, only a wrong default key listed", frame5,
             "wrong_key")
    rejected("default-key-none-opens-mode7", "mode 7 with the zero key, only a wrong default key listed", frame7,
             "bad_mac")
    rejected("default-key-none-opens-ell", "ELL with the zero key, only a wrong default key listed", frame_ell,
             "wrong_key")
    made_valid, made_rejected = VALID[first_valid:], REJECTED[first_rejected:]
    del VALID[first_valid:], REJECTED[first_rejected:]
    for entry in made_valid:
        entry["default_keys"] = keys
    for entry in made_rejected:
        entry["default_keys"] = keys[:1]
    return {"valid": made_valid, "rejected": made_rejected}


# Issue 12: trailing block CRCs (tolerant framing) and manufacturer-specific TPL security modes.


def final_block_crc(frame):
    """The CRC-16/EN-13757 (big-endian) of the final format-A block of a frame without CRCs: the data after the
    10-byte first block, cut into 16-byte blocks from there on (EN 13757-4 format A)."""
    data = len(frame) - 10
    assert data >= 1
    start = 10 + ((data - 1) // 16) * 16
    return struct.pack(">H", crc16_en13757(frame[start:]))


def with_trailing_crc(frame):
    """A frame without CRCs plus the CRC of its final format-A block, L counting the two bytes (as dongles that
    strip all CRCs but the last deliver it; wmbusmeters issue #74 describes such a dongle)."""
    trailer = final_block_crc(frame)
    out = bytes([frame[0] + 2]) + frame[1:] + trailer
    return out, trailer


def trailing(trailer):
    return {"count": len(trailer), "hex": trailer.hex().upper(), "recognised_as": "block_crc"}


def tolerant_vectors():
    gwf = ("GWF", "20240012", 0x3C, 0x03)
    records = [
        rec("0C13", bcd(4711, 8), "volume", "integer", "4.711", "m3", -3, ml="4711000"),
        rec("02FD17", bytes.fromhex("0000"), "error_flags", "bits", 0, vif_table="fd"),
    ]
    plain = wireless(0x44, *gwf, tpl_short(0x21, 0x00, cfg(0)) + assemble(records))
    frame, trailer = with_trailing_crc(plain)
    exp = expected(meter(*gwf), link_w(frame, "no_crc", *gwf), tpl_obj(0x7A, 0x21, 0, 0), records, False, 0x21)
    exp["trailing_bytes"] = trailing(trailer)
    valid("trailing-crc-plain", "mode 0; after the last record the CRC of the final format-A block (L counts it): "
          "the record list ends there and the frame records the two trailing bytes", frame, exp)
    # A wrong trailer still fails as before: 0C 13 is a record header whose data is cut off.
    assert trailer != bytes.fromhex("0C13")
    bad = frame[:-2] + bytes.fromhex("0C13")
    rejected("trailing-not-a-crc", "two bytes after the records that are not the final block's CRC (a cut-off "
             "record): truncated, as before", bad, "truncated")
    # The CRC of all the data instead of the final block's: its first byte BF reads as a reserved DIF, the failure
    # such frames gave before.
    longer = wireless(0x44, *gwf, tpl_short(0x23, 0x00, cfg(0)) + assemble(oms_records()))
    whole = struct.pack(">H", crc16_en13757(longer[10:]))
    # C9 2A: a DIF with one DIFE and no VIF.
    assert whole == bytes.fromhex("C92A") and whole != with_trailing_crc(longer)[1]
    rejected("trailing-crc-wrong-block", "21 data bytes; the trailer is the CRC of all of them, not of the final "
             "format-A block (the last 5): truncated, as before", bytes([longer[0] + 2]) + longer[1:] + whole,
             "truncated")

    # Records, 2F idle fillers, then the CRC; the final block is exactly 16 bytes.
    records = [rec("0C13", bcd(12345678, 8), "volume", "integer", "12345.678", "m3", -3, ml="12345678000")]
    body = tpl_short(0x22, 0x00, cfg(0)) + assemble(records)
    body += b"\x2f" * (16 - len(body))
    plain = wireless(0x44, *gwf, body)
    assert len(plain) - 10 == 16
    frame, trailer = with_trailing_crc(plain)
    exp = expected(meter(*gwf), link_w(frame, "no_crc", *gwf), tpl_obj(0x7A, 0x22, 0, 0), records, False, 0x22)
    exp["trailing_bytes"] = trailing(trailer)
    valid("trailing-crc-after-fillers", "records, 2F idle fillers up to a full 16-byte final block, then that "
          "block's CRC", frame, exp)

    # Mode 5: the CRC follows the encrypted blocks and covers the ciphertext (the unismart gas telegram of
    # wmbusmeters src/driver_unismart.cc has this shape).
    els = ("ELS", "12345678", 51, 0x03)
    content = pad16(b"\x2f\x2f" + assemble(oms_records()))
    m_a = address_bytes(*els)
    plain5 = wireless(0x44, *els, tpl_short(0x2B, 0x00, cfg(5, 2, synchronous=True))
                      + mode5_encrypt(KEY, m_a, 0x2B, content))
    frame, trailer = with_trailing_crc(plain5)
    exp = expected(ELS_METER, link_w(frame, "no_crc", *els), tpl_obj(0x7A, 0x2B, 0, cfg(5, 2, synchronous=True)),
                   oms_records(), True, 0x2B, sec=security(5, "decrypted", encrypted_bytes=32),
                   meter_time="2008-05-31T23:50:00")
    exp["trailing_bytes"] = trailing(trailer)
    valid("trailing-crc-mode5", "mode 5 (2 blocks) followed by the final block's CRC over the ciphertext: the "
          "trailer lies outside the encrypted part", frame, exp, key=KEY)

    # Fail closed: a record cut off inside the encrypted part is not rescued by a valid trailing CRC.
    content = b"\x2f\x2f" + bytes.fromhex("0C1378563412") + b"\x2f" * 6 + bytes.fromhex("0C13")
    assert len(content) == 16
    cut = wireless(0x44, *els, tpl_short(0x2C, 0x00, cfg(5, 1)) + mode5_encrypt(KEY, m_a, 0x2C, content))
    frame, _ = with_trailing_crc(cut)
    rejected("trailing-crc-record-cut-in-encrypted", "mode 5 whose last encrypted record is cut off at the block "
             "end, then a valid final-block CRC: still truncated (no tolerance inside protected content)", frame,
             "truncated", key=KEY)
    # Wired frames have no block CRCs: two stray bytes after the records fail as before.
    wired_frame = wired(0x08, 0xFD, tpl_long(*els, 0x2D, 0x00, cfg(0)) + assemble(oms_records())
                        + bytes.fromhex("0C13"))
    rejected("trailing-bytes-wired", "wired long frame with two stray bytes after the records", wired_frame,
             "truncated", medium="wired")


def diehl_swapped(frame):
    """A Diehl real-data frame sends its DLL address as M(2) version type ID(4) (wmbusmeters
    src/manufacturer_specificities.cc, address transform SWAPPING); `frame` is laid out the standard way."""
    return frame[:4] + frame[8:10] + frame[4:8] + frame[10:]


def izar_rs_records(total, at_date, date):
    return [
        rec("0413", struct.pack("<I", total), "volume", "integer", "%d.%03d" % divmod(total, 1000), "m3", -3,
            ml="%d" % (total * 1000)),
        rec("426C", date, "date", "date", "2021-03-31", storage=1),
        rec("4413", struct.pack("<I", at_date), "volume", "integer", "%d.%03d" % divmod(at_date, 1000), "m3", -3,
            storage=1, ml="%d" % (at_date * 1000)),
    ]


def manufacturer_mode_vectors():
    # The two Hydrus IZAR RS telegrams of wmbusmeters drivers/src/hydrus.xmq: HYD, CI 7A, CFG 7D10 (mode 29) and
    # D810 (mode 24). Their content is Diehl real data already decoded: it sums to the CFG high byte.
    public = [
        ("diehl-real-data-hydrus-mode29", ("HYD", "60897379", 0x8B, 0x07), 0x8F, 0x7D10, 71442, 69700,
         "1E4424238B07797389607A8F00107D041312170100426CBF23441344100100"),
        ("diehl-real-data-hydrus-mode24", ("HYD", "60904720", 0x8B, 0x06), 0x2A, 0xD810, 49373, 48002,
         "1E4424238B06204790607A2A0010D80413DDC00000426CBF23441382BB0000"),
    ]
    for name, hyd, acc, config, total, at_date, text in public:
        records = izar_rs_records(total, at_date, date_g(2021, 3, 31))
        frame = diehl_swapped(wireless(0x44, *hyd, tpl_short(acc, 0x00, config) + assemble(records)))
        assert frame.hex().upper() == text, name
        assert sum(assemble(records)) & 0xEF == (config >> 8) & 0xEF
        mode = (config >> 8) & 0x1F
        address = registry(*hyd)
        valid(name, "Diehl real-data telegram (CFG bit 12) whose content is already decoded (wmbusmeters test data): "
              "accepted only by the decode tool, because the content sums to the CFG checksum", frame,
              expected(meter(*hyd), link_w(frame, "no_crc", *hyd), tpl_obj(0x7A, acc, 0, config), records, False,
                       acc, sec=security(mode, "already_decrypted", encrypted_bytes=len(assemble(records)))),
              allow=True, source="wmbusmeters/wmbusmeters drivers/src/hydrus.xmq")
        rejected(name + "-live", "the same telegram in the live pipeline (no already-decrypted frames): the "
                 "Diehl scheme is not supported, the header stays readable", frame, "unsupported_security_mode",
                 peek=peek(address, mode, 0x7A, acc))
        rejected(name + "-with-key", "the same telegram with a key registered: the gateway does not decode the "
                 "Diehl LFSR", frame, "unsupported_security_mode", key=KEY, allow=True,
                 peek=peek(address, mode, 0x7A, acc))
        bad = frame[:-1] + bytes([frame[-1] ^ 0x01])
        rejected(name + "-bad-checksum", "one content byte changed: the sum no longer matches the CFG checksum, so "
                 "the content is not taken as decoded", bad, "unsupported_security_mode", allow=True,
                 peek=peek(address, mode, 0x7A, acc))
    hyd = ("HYD", "60897379", 0x8B, 0x07)
    records = izar_rs_records(71442, 69700, date_g(2021, 3, 31))
    long_frame = wireless(0x44, *hyd, tpl_long(*hyd, 0x8F, 0x00, 0x7D10) + assemble(records))
    rejected("diehl-mode29-long-header", "HYD mode 29 under a long TPL header (CI 72) is not the real-data scheme "
             "(its address is read the standard way): unsupported_security_mode", long_frame,
             "unsupported_security_mode", allow=True, peek=peek(registry(*hyd), 29, 0x72, 0x8F))
    # B METERS RFM-TX1 (wmbusmeters src/driver_rfmtx1.cc): CFG 1006, obfuscated register values.
    bmt = ("BMT", "74737271", 0x05, 0x07)
    text = ("4644B4097172737405077AA50006101115F78184AB0F1D1E200000005904103103208047004A4800E73C00193E00453F003E40"
            "00E64000E74100F442000144001545005B460000")
    frame = bytes.fromhex(text)
    assert frame[:10] == bytes([0x46, 0x44]) + address_bytes(*bmt)
    rejected("bmeters-mode16", "B METERS RFM-TX1 telegram (mode 16, obfuscated values; wmbusmeters "
             "src/driver_rfmtx1.cc): unsupported_security_mode, header readable", frame,
             "unsupported_security_mode", allow=True, peek=peek(registry(*bmt), 16, 0x7A, 0xA5))

# ---------------------------------------------------------------------------------------------------------------


def main():
    frame5, frame7, framew = public_vectors()
    made = constructed_vectors(frame5, frame7, framew)
    rejected_vectors(frame5, frame7, framew, made)
    compact_vectors()
    default_keys = default_key_vectors()
    tolerant_vectors()
    manufacturer_mode_vectors()

    names = [v["name"] for v in VALID + REJECTED + default_keys["valid"] + default_keys["rejected"]]
    assert len(names) == len(set(names)), "duplicate vector names"

    document = {
        "about": "Golden vectors for the wireless/wired M-Bus + OMS decoder (firmware-protocols/wmbus-oms.md). "
                 "Generated by firmware-protocols/tools/gen_wmbus_vectors.py; do not edit by hand.",
        "fuzz_key": KEY.hex().upper(),
        "valid": VALID,
        "rejected": REJECTED,
        "compact_pairs": COMPACT_PAIRS,
        "default_key_vectors": default_keys,
    }
    with open(os.path.join(ROOT, "wmbus-vectors.json"), "w") as out:
        json.dump(document, out, indent=1)
        out.write("\n")

    for medium, folder, selector in (("wireless", "wmbus", 0x02), ("wired", "mbus", 0x03)):
        corpus = os.path.join(ROOT, "corpus", folder)
        os.makedirs(corpus, exist_ok=True)
        for old in os.listdir(corpus):
            os.remove(os.path.join(corpus, old))
        for entry in VALID + REJECTED + default_keys["valid"] + default_keys["rejected"]:
            if entry["medium"] != medium:
                continue
            frame = bytes.fromhex(entry["hex"])
            with open(os.path.join(corpus, entry["name"] + ".bin"), "wb") as out:
                out.write(bytes([selector]) + frame)
            if entry in VALID or entry in default_keys["valid"]:
                with open(os.path.join(corpus, entry["name"] + ".reseal.bin"), "wb") as out:
                    out.write(bytes([selector | 0x80]) + frame)

    print("wrote %d valid and %d rejected vectors" % (len(VALID), len(REJECTED)))



# ---------------------------------------------------------------------------------------------------------------
# Compact frames (CI 79 / 7B / 73): EN 13757-3 and OMS Vol.2. The application data of a compact frame is the format
# signature (CRC-16/EN-13757 of the full frame's DIF/VIF chain, LE), the full-frame CRC (CRC-16/EN-13757 of the full
# frame's records, chains and values, no fillers, LE) and the values only. A vector that needs layouts carries
# "layouts": [{"meter": registry address, "chain": hex}], the DIF/VIF chains the decoder's layout lookup knows.

COMPACT_PAIRS = []

# A public full/compact pair: Kamstrup (KAM), ELL 8D with its CTR part already decrypted (allow already-decrypted),
# from lvogt/wireless-mbus-parser test/parser.spec.ts ("Compact frame without cache, afterwards with"): the parser
# caches the layout under signature 0x82DD and decodes 13 records from the compact frame.
KAMSTRUP_FULL = ("5C442D2C06357260190C8D207B70032F21271D7802F9FF15011104061765000004EEFF07BFA8000004EEFF08D24F00000414B1"
                 "FB000002FD170000026CE919426CFF184406F76400004414E8FA0000043B0B0000000259DB11025D1C0B")
KAMSTRUP_COMPACT = ("3F442D2C06357260190C8D207C71032F21255C79DD829283011117650000BFA80000D24F0000B1FB00000000E919FF18F764"
                    "0000E8FA00000B000000DB111C0B")


def split_records(data):
    """An independent reader of a record list: [(chain bytes, value bytes)], 2F fillers skipped."""
    fixed = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 4, 6: 6, 7: 8, 8: 0, 9: 1, 0xA: 2, 0xB: 3, 0xC: 4, 0xE: 6}
    out, i = [], 0
    while i < len(data):
        if data[i] == 0x2F:
            i += 1
            continue
        start = i
        dif = data[i]
        i += 1
        while data[i - 1] & 0x80:
            i += 1
        vif = data[i]
        i += 1
        extends = vif & 0x80
        if vif in (0xFB, 0xFD):
            extends = data[i] & 0x80
            i += 1
        elif vif in (0x7C, 0xFC):
            i += 1 + data[i]
        while extends:
            extends = data[i] & 0x80
            i += 1
        chain = data[start:i]
        if dif & 0x0F == 0x0D:
            lvar = data[i]
            length = 1 + (lvar if lvar < 0xC0 else lvar & 0x0F)
        else:
            length = fixed[dif & 0x0F]
        out.append((chain, data[i:i + length]))
        i += length
    return out


def compact_body(records_bytes):
    """(chain, signature, full-frame CRC, values) of a full frame's record list."""
    parts = split_records(records_bytes)
    chain = b"".join(c for c, _ in parts)
    values = b"".join(v for _, v in parts)
    full = b"".join(c + v for c, v in parts)
    return chain, crc16_en13757(chain), crc16_en13757(full), values


def compact_vectors():
    # --- the public pair: signature and full-frame CRC as the public parser computes them ------------------------
    full, compact = bytes.fromhex(KAMSTRUP_FULL), bytes.fromhex(KAMSTRUP_COMPACT)
    chain, signature, full_crc, values = compact_body(full[20:])
    assert (signature, full_crc) == (0x82DD, 0x8392), (hex(signature), hex(full_crc))
    assert compact[20:22] == struct.pack("<H", signature) and compact[22:24] == struct.pack("<H", full_crc)
    assert compact[24:] == values
    COMPACT_PAIRS.append({
        "name": "kamstrup-ell-ci79-pair", "source": "lvogt/wireless-mbus-parser test/parser.spec.ts",
        "description": "Kamstrup full frame (ELL 8D, CI 78) and its compact frame (CI 79); already-decrypted ELL",
        "meter": "KAM-60723506-25-0C", "full_hex": full.hex().upper(), "compact_hex": compact.hex().upper(),
        "chain": chain.hex().upper(), "signature": "%04X" % signature, "full_frame_crc": "%04X" % full_crc,
        "allow_already_decrypted": True, "record_count": 13,
    })

    # --- constructed: the OMS records, compact with a short header and mode 5 (7B) ------------------------------
    els = ("ELS", "12345678", 51, 0x03)
    els_address = registry(*els)
    records = oms_records()
    chain, signature, full_crc, values = compact_body(assemble(records))
    layouts = [{"meter": els_address, "chain": chain.hex().upper()}]
    plain = pad16(b"\x2f\x2f" + struct.pack("<HH", signature, full_crc) + values)
    m_a = address_bytes(*els)
    body = tpl_short(0x31, 0x00, cfg(5, len(plain) // 16)) + mode5_encrypt(KEY, m_a, 0x31, plain)
    body = bytes([0x7B]) + body[1:]
    frame = wireless(0x44, *els, body)
    exp = expected(ELS_METER, link_w(frame, "no_crc", *els), tpl_obj(0x7B, 0x31, 0, cfg(5, 1)), records, True, 0x31,
                   sec=security(5, "decrypted", encrypted_bytes=16), meter_time="2008-05-31T23:50:00")
    valid("compact-ci7b-mode5", "OMS Annex N gas records as a compact frame: CI 7B (short header), mode 5; the "
          "layout is the records' DIF/VIF chain 0C14 046D 02FD17", frame, exp, key=KEY)
    VALID[-1]["layouts"] = layouts
    VALID[-1]["compact"] = {"signature": "%04X" % signature, "full_frame_crc": "%04X" % full_crc}
    compact5 = frame

    rejected("compact-ci7b-mode5-wrong-key", "compact mode-5 frame with another key: security fails first",
             compact5, "wrong_key", key=KEY_WRONG, peek=peek(els_address, 5, 0x7B, 0x31))
    REJECTED[-1]["layouts"] = layouts
    rejected("compact-ci7b-mode5-unknown-format", "compact mode-5 frame, no layout known for the meter",
             compact5, "unknown_format", key=KEY, peek=peek(els_address, 5, 0x7B, 0x31))
    REJECTED[-1]["layouts"] = [{"meter": els_address, "chain": "0C13046D02FD17"}]

    # --- constructed: long header (73), plain, with an LVAR record and idle fillers in the full frame ------------
    gwf = ("GWF", "20240002", 0x3C, 0x03)
    records = [
        rec("0C943A", bcd(91700, 8), "volume", "integer", "917.00", "m3", -2, basis="uncorrected", ml="917000000"),
        rec("0DFD11", bytes.fromhex("563412"), "customer", "integer", "123456", vif_table="fd", lvar=0xC3),
        rec("02FD17", struct.pack("<H", 0x0000), "error_flags", "bits", 0, vif_table="fd"),
        rec("046D", date_f(2024, 3, 1, 6, 0), "date_time", "date", "2024-03-01T06:00:00"),
    ]
    full_records = assemble(records[:2]) + b"\x2f" + assemble(records[2:])
    chain, signature, full_crc, values = compact_body(full_records)
    gwf_layouts = [{"meter": registry(*gwf), "chain": chain.hex().upper()}]
    header = tpl_long(*gwf, 0x05, 0x00, cfg(0), ci=0x73)
    frame = wireless(0x44, *gwf, header + struct.pack("<HH", signature, full_crc) + values)
    exp = expected(meter(*gwf), link_w(frame, "no_crc", *gwf),
                   tpl_obj(0x73, 5, 0, 0, address=registry(*gwf)), records, False, 5,
                   meter_time="2024-03-01T06:00:00")
    valid("compact-ci73-plain-lvar", "compact frame with a long header (CI 73), mode 0; the layout has an LVAR "
          "record (its LVAR byte travels with the values) and came from a full frame with a 2F filler", frame, exp)
    VALID[-1]["layouts"] = gwf_layouts
    VALID[-1]["compact"] = {"signature": "%04X" % signature, "full_frame_crc": "%04X" % full_crc}
    compact73 = frame

    # --- constructed: no TPL header (79), plain, identity from the DLL ------------------------------------------
    frame79 = wireless(0x44, *gwf, bytes([0x79]) + struct.pack("<HH", signature, full_crc) + values)
    exp = expected(meter(*gwf), link_w(frame79, "no_crc", *gwf), tpl_obj(0x79), records, False, None,
                   status=None, meter_time="2024-03-01T06:00:00")
    valid("compact-ci79-plain", "the same values as compact-ci73-plain-lvar in a CI 79 frame (no TPL header)",
          frame79, exp)
    VALID[-1]["layouts"] = gwf_layouts
    VALID[-1]["compact"] = {"signature": "%04X" % signature, "full_frame_crc": "%04X" % full_crc}

    # --- the full frame that teaches this layout, and later compact frames with new values (end-to-end test) ----
    full = wireless(0x44, *gwf, tpl_short(0x04, 0x00, cfg(0)) + full_records)
    exp = expected(meter(*gwf), link_w(full, "no_crc", *gwf), tpl_obj(0x7A, 4, 0, 0), records, False, 4,
                   meter_time="2024-03-01T06:00:00")
    valid("compact-layout-full-frame", "the full frame (CI 7A, mode 0) whose DIF/VIF chain the GWF compact vectors "
          "name: Vm, an LVAR customer number, a 2F filler, error flags, meter time", full, exp)
    for name, ci, header, volume, hour in (("compact-ci79-plain-later", 0x79, b"", 91800, 7),
                                           ("compact-ci7b-plain-later", 0x7B, tpl_short(0x06, 0x00, cfg(0))[1:],
                                            91900, 8)):
        later = [
            rec("0C943A", bcd(volume, 8), "volume", "integer", "%d.00" % (volume // 100), "m3", -2,
                basis="uncorrected", ml="%d0000" % volume),
            records[1], records[2],
            rec("046D", date_f(2024, 3, 1, hour, 0), "date_time", "date", "2024-03-01T%02d:00:00" % hour),
        ]
        _, sig, crc, vals = compact_body(assemble(later))
        assert sig == signature
        frame = wireless(0x44, *gwf, bytes([ci]) + header + struct.pack("<HH", sig, crc) + vals)
        tpl = tpl_obj(ci) if ci == 0x79 else tpl_obj(ci, 6, 0, 0)
        exp = expected(meter(*gwf), link_w(frame, "no_crc", *gwf), tpl, later, False, None if ci == 0x79 else 6,
                       status=None if ci == 0x79 else STATUS_OK, meter_time="2024-03-01T%02d:00:00" % hour)
        valid(name, "a later compact frame (CI %02X) of the same meter and layout with new values" % ci, frame, exp)
        VALID[-1]["layouts"] = gwf_layouts
        VALID[-1]["compact"] = {"signature": "%04X" % sig, "full_frame_crc": "%04X" % crc}

    def gwf79(payload):
        return wireless(0x44, *gwf, bytes([0x79]) + payload)

    def reject(name, description, frame, error):
        rejected(name, description, frame, error, peek=peek(registry(*gwf), 0, 0x79, None))
        REJECTED[-1]["layouts"] = gwf_layouts

    head = struct.pack("<HH", signature, full_crc)
    reject("compact-bad-full-frame-crc", "CI 79 with one value byte changed: the reassembled records do not match "
           "the full-frame CRC", gwf79(head + values[:-1] + bytes([values[-1] ^ 0x01])), "bad_crc")
    reject("compact-crc-field-changed", "CI 79 with the full-frame CRC field changed",
           gwf79(struct.pack("<HH", signature, full_crc ^ 0x8000) + values), "bad_crc")
    reject("compact-values-truncated", "CI 79 whose values stop one byte short of the layout",
           gwf79(head + values[:-1]), "truncated")
    reject("compact-lvar-missing", "CI 79 cut right before the LVAR byte", gwf79(head + values[:4]), "truncated")
    reject("compact-extra-bytes", "CI 79 with a byte after the values (not a 2F filler)",
           gwf79(head + values + b"\x00"), "bad_length")
    reject("compact-no-signature", "CI 79 with only one byte of the format signature", gwf79(head[:1]), "truncated")
    reject("compact-unknown-signature", "CI 79 whose signature is not the known layout's",
           gwf79(struct.pack("<HH", signature ^ 0x0101, full_crc) + values), "unknown_format")
    rejected("compact-ci73-layout-of-other-meter", "CI 73 frame; the only layout known belongs to another meter",
             compact73, "unknown_format", peek=peek(registry(*gwf), 0, 0x73, 5))
    REJECTED[-1]["layouts"] = [{"meter": els_address, "chain": gwf_layouts[0]["chain"]}]


if __name__ == "__main__":
    main()
