#!/usr/bin/env python3
"""Generates the golden vectors of the M-Bus drivers for proprietary payloads (firmware-protocols/wmbus-drivers.md).

Independent of the Swift decoder: frames are laid out byte by byte here, the format-A CRC is a bitwise
CRC-16/EN-13757 written here, and each expected value is computed here from the layout in wmbus-drivers.md with
exact integer arithmetic. The public telegrams are the test telegrams of wmbusmeters (repository
wmbusmeters/wmbusmeters, drivers/src/apator08.xmq and src/driver_apator08.cc), each with the value wmbusmeters
prints for it (`total_m3`); the generator asserts that the gateway's value, in m³ with six decimals, is that value.

Usage (from the repository root):
    python3 firmware-protocols/tools/gen_wmbus_driver_vectors.py

Writes firmware-protocols/wmbus-driver-vectors.json and the fuzzing seed corpus firmware-protocols/corpus/wmbus-drivers/
(selector 0x02, wireless M-Bus; `.reseal.bin` copies with selector 0x82 for the valid vectors). Deterministic.
"""

import json
from decimal import Decimal
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Status bits the gateway sets on readings (MBusFrame+Records.swift).
CLOCK_INVALID_BIT = 1 << 40
INFERRED_SCALE_BIT = 1 << 41

# The public test telegrams (wmbusmeters/wmbusmeters drivers/src/apator08.xmq, tests section) and what
# wmbusmeters prints for them.
PUBLIC_0303 = ("73441486DD4444000303A0B9E527004C4034B31CED0106FF01D093270065F022009661230054D02300EC49240018B424005F0125"
               "00936D2500FFD525000E3D26001EAC26000B2027000300000000371D0B2000000000000024000000000000280000000000002C00"
               "33150C010D2F000000000000")
PUBLIC_0303_PRINTS = "871.571"
PUBLIC_0F0F = "1C441486069C14000F0FA042F214000040030000000005FF0472BF1400"
PUBLIC_0F0F_PRINTS = "457.579333"

APT_WIRE = 0x8614  # "APT" (0x0614) with bit 15 set, wire bytes 14 86

VALID = []
REJECTED = []


def crc16_en13757(data):
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x3D65) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc ^ 0xFFFF


def format_a(frame):
    """Adds format-A CRCs to a frame without CRCs (L unchanged)."""
    out = frame[:10] + struct.pack(">H", crc16_en13757(frame[:10]))
    rest = frame[10:]
    for start in range(0, len(rest), 16):
        block = rest[start:start + 16]
        out += block + struct.pack(">H", crc16_en13757(block))
    return out


def wireless(manufacturer, id_text, version, dtype, ci, payload, c=0x44):
    """L C M(2, LE) A(ID 4 LE BCD, version, type) CI payload, without CRCs."""
    ident = bytes.fromhex(id_text)[::-1]
    body = bytes([c]) + struct.pack("<H", manufacturer) + ident + bytes([version, dtype, ci]) + payload
    return bytes([len(body)]) + body


def letters(code):
    return "".join(chr(((code >> shift) & 0x1F) + 64) for shift in (10, 5, 0))


def registry(code, id_text, version, dtype):
    return "%s-%s-%d-%02X" % (letters(code), id_text.upper(), version, dtype)


def m3_text(millilitres):
    """millilitres / 10^6 as m³ with all six decimals (ExactDecimal keeps the resolution: 871.571000)."""
    whole, fraction = divmod(millilitres, 1_000_000)
    return "%d.%06d" % (whole, fraction)


def apator08_millilitres(payload):
    """Layout of wmbus-drivers.md §2: u32 LE at offset 0 counts thirds of a litre; nearest millilitre."""
    thirds = struct.unpack("<I", payload[:4])[0]
    exact_times_3 = thirds * 1000  # millilitres × 3
    quotient, remainder = divmod(exact_times_3, 3)
    return quotient + (1 if remainder == 2 else 0)


def apator_valid(name, description, frame, payload_offset, source, prints=None, frame_format="no_crc", hex_frame=None):
    """A frame the apator08 driver reads; `frame` without CRCs, `payload_offset` = index after the CI."""
    payload = frame[payload_offset:]
    millilitres = apator08_millilitres(payload)
    if prints is not None:
        assert Decimal(m3_text(millilitres)) == Decimal(prints), (name, m3_text(millilitres), prints)
    code = struct.unpack("<H", frame[2:4])[0]
    id_text = frame[4:8][::-1].hex().upper()
    VALID.append({
        "name": name,
        "description": description,
        "source": source,
        "medium": "wireless",
        "hex": (hex_frame or frame).hex().upper(),
        "frame_format": frame_format,
        "drivers": "all",
        "expected": {
            "meter": registry(code, id_text, frame[8], frame[9]),
            "manufacturer_code": code,
            "ci": frame[10],
            "driver": "apator08",
            "certainty": "inferred",
            "record_count": 1,
            "data_hex": payload[:4].hex().upper(),
            "millilitres": millilitres,
            "value_m3": m3_text(millilitres),
            "public_decoder_prints_m3": prints,
            "reading_status_bits": CLOCK_INVALID_BIT | INFERRED_SCALE_BIT,
        },
    })


def rejected(name, description, frame, error, drivers, source="constructed"):
    REJECTED.append({
        "name": name,
        "description": description,
        "source": source,
        "medium": "wireless",
        "hex": frame.hex().upper(),
        "drivers": drivers,
        "error": error,
    })


def main():
    xmq = "wmbusmeters/wmbusmeters drivers/src/apator08.xmq (test telegram)"
    public_0303 = bytes.fromhex(PUBLIC_0303)
    public_0f0f = bytes.fromhex(PUBLIC_0F0F)
    assert public_0303[0] + 1 == len(public_0303) and public_0f0f[0] + 1 == len(public_0f0f)

    apator_valid("apator08-public-0303", "AT-WMBUS-08, version 03, type 03 (gas on the wire)", public_0303, 11, xmq,
                 prints=PUBLIC_0303_PRINTS)
    apator_valid("apator08-public-0f0f", "AT-WMBUS-08, version 0F, type 0F", public_0f0f, 11, xmq,
                 prints=PUBLIC_0F0F_PRINTS)
    apator_valid("apator08-public-0f0f-format-a", "the 0F/0F telegram with its format-A CRCs", public_0f0f, 11,
                 "constructed from " + xmq, prints=PUBLIC_0F0F_PRINTS, frame_format="format_a",
                 hex_frame=format_a(public_0f0f))
    apator_valid("apator08-rounds-up", "register 2 thirds of a litre: 666.67 ml rounds to 667 ml",
                 wireless(APT_WIRE, "00000001", 0x03, 0x03, 0xA0, bytes.fromhex("02000000")), 11, "constructed")
    apator_valid("apator08-rounds-down", "register 1 third of a litre: 333.33 ml rounds to 333 ml",
                 wireless(APT_WIRE, "00000001", 0x03, 0x03, 0xA0, bytes.fromhex("01000000")), 11, "constructed")
    apator_valid("apator08-register-max", "register FFFFFFFF: 1431655.765 m³, no overflow",
                 wireless(APT_WIRE, "00000001", 0x03, 0x03, 0xA0, bytes.fromhex("FFFFFFFF")), 11, "constructed")
    apator_valid("apator08-register-only", "exactly the 4 register bytes after the CI",
                 wireless(APT_WIRE, "00000002", 0x0F, 0x0F, 0xA0, bytes.fromhex("90010000")), 11, "constructed")

    rejected("apator08-public-0303-not-enabled", "the public 03/03 telegram with only documented drivers enabled",
             public_0303, "unsupported_frame", "documented", xmq)
    rejected("apator08-payload-3-bytes", "3 payload bytes: the register is cut off",
             wireless(APT_WIRE, "00000001", 0x03, 0x03, 0xA0, bytes.fromhex("B9E527")), "truncated", "all")
    rejected("apator08-payload-empty", "nothing after the CI",
             wireless(APT_WIRE, "00000001", 0x03, 0x03, 0xA0, b""), "truncated", "all")
    rejected("apator08-wrong-type-07", "APT version 03 with device type 07 (water): no driver is selected",
             wireless(APT_WIRE, "00000001", 0x03, 0x07, 0xA0, bytes.fromhex("B9E52700")), "unsupported_frame", "all")
    rejected("apator08-wrong-version-04", "APT version 04 type 03: no driver is selected",
             wireless(APT_WIRE, "00000001", 0x04, 0x03, 0xA0, bytes.fromhex("B9E52700")), "unsupported_frame", "all")
    rejected("apator08-mixed-03-0f", "version 03 with type 0F (the pairs are 03/03 and 0F/0F only)",
             wireless(APT_WIRE, "00000001", 0x03, 0x0F, 0xA0, bytes.fromhex("B9E52700")), "unsupported_frame", "all")
    rejected("apator08-apt-without-bit15", "manufacturer 0x0614 (APT without bit 15): not the selected code",
             wireless(0x0614, "00000001", 0x03, 0x03, 0xA0, bytes.fromhex("B9E52700")), "unsupported_frame", "all")
    rejected("apator08-ci-a1", "APT 03/03 with CI A1: the driver reads CI A0 only",
             wireless(APT_WIRE, "00000001", 0x03, 0x03, 0xA1, bytes.fromhex("B9E52700")), "unsupported_frame", "all")
    rejected("apator08-to-meter", "C = 53 (SND_UD, to the meter) with an apator08 payload: decodes, not stored",
             wireless(APT_WIRE, "00000001", 0x03, 0x03, 0xA0, bytes.fromhex("B9E52700"), c=0x53),
             "wrong_direction", "all")

    names = [v["name"] for v in VALID + REJECTED]
    assert len(names) == len(set(names)), "duplicate vector names"
    document = {
        "about": "Golden vectors for the M-Bus drivers (firmware-protocols/wmbus-drivers.md). Generated by "
                 "firmware-protocols/tools/gen_wmbus_driver_vectors.py; do not edit by hand. `drivers` is the driver "
                 "set to decode with (`all` or `documented`); `wrong_direction` is the admission ladder's verdict "
                 "(the decoder itself reads the frame).",
        "valid": VALID,
        "rejected": REJECTED,
    }
    with open(os.path.join(ROOT, "wmbus-driver-vectors.json"), "w") as out:
        json.dump(document, out, indent=1)
        out.write("\n")

    corpus = os.path.join(ROOT, "corpus", "wmbus-drivers")
    os.makedirs(corpus, exist_ok=True)
    for old in os.listdir(corpus):
        os.remove(os.path.join(corpus, old))
    for entry in VALID + REJECTED:
        frame = bytes.fromhex(entry["hex"])
        with open(os.path.join(corpus, entry["name"] + ".bin"), "wb") as out:
            out.write(bytes([0x02]) + frame)
        if entry in VALID:
            with open(os.path.join(corpus, entry["name"] + ".reseal.bin"), "wb") as out:
                out.write(bytes([0x82]) + frame)
    print("wrote %d valid and %d rejected driver vectors" % (len(VALID), len(REJECTED)))


if __name__ == "__main__":
    main()
