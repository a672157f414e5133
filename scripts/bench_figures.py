#!/usr/bin/env python3
"""The figures of scripts/bench.sh: each subcommand prints one part of the story and records it in a JSON file.

    bench_figures.py reference  FIGURES STATE  key=value...   the ack-only reference consumer's run (the ceiling)
    bench_figures.py ingest     FIGURES STATE  key=value...   the gateway's run of the same fleet
    bench_figures.py validation FIGURES        key=value...   the validator working through the touched meters
    bench_figures.py storage    FIGURES        conninfo=... [v16_conninfo=...]   bytes on disk per meter-day (and of the
                                                 same rows in the v16 layout, with the ratio)
    bench_figures.py storage-daily-report FIGURES conninfo=... [v16_conninfo=...]   the same for a load of one daily
                                                 report per meter (scripts/storage-load.sh with FIGURES set)
    bench_figures.py alarms     FIGURES STATE  key=value...   alarm latency at half the sustained rate
    bench_figures.py memory     FIGURES        vmhwm_kb=...   peak RSS of the gateway
    bench_figures.py capacity   FIGURES                       the README's scaling table, derived from FIGURES

CPU figures come from /proc tick counts taken by bench.sh before and after each phase (`*0` and `*1` arguments),
so they are ratios of work done, comparable on a shared machine. FIGURES is updated in place (one object per part).
"""
import json
import math
import os
import subprocess
import sys


def load(path):
    return json.load(open(path)) if os.path.exists(path) else {}


def save(path, figures):
    with open(path + ".tmp", "w") as out:
        json.dump(figures, out, indent=2, sort_keys=True)
    os.replace(path + ".tmp", path)


def arguments(items):
    values = {}
    for item in items:
        key, _, value = item.partition("=")
        values[key] = value
    return values


def psql(conninfo, sql):
    result = subprocess.run(["psql", "-tA", conninfo, "-c", sql], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def cpu_us(args, name, hz, count):
    """CPU microseconds per unit of `name`'s ticks between `name`0 and `name`1."""
    ticks = int(args[name + "1"]) - int(args[name + "0"])
    return ticks / hz * 1e6 / max(count, 1)


def fleet_rate(report):
    """Frames the consumer acknowledged per second, as the fleet saw it: first publish to last ack."""
    return report["acked"] / report["settledSeconds"] if report["settledSeconds"] > 0 else 0.0


def fleet_cpu_us(state, name, frames):
    user, system = (float(x) for x in open(f"{state}/{name}.time").read().split())
    return (user + system) * 1e6 / max(frames, 1)


def reference(figures, state, args):
    hz = int(args["hz"])
    report = json.load(open(f"{state}/reference.json"))
    frames = report["framesGenerated"]
    part = {
        "frames": frames,
        "acked": report["acked"],
        "unacked": report["unacked"],
        "frames_per_second": round(fleet_rate(report), 1),
        "cpu_us_per_frame": {
            "reference_consumer": round(cpu_us(args, "consumer", hz, frames), 2),
            "broker": round(cpu_us(args, "broker", hz, frames), 2),
            "fleet": round(fleet_cpu_us(state, "reference", frames), 2),
        },
    }
    figures["reference"] = part
    cpu = part["cpu_us_per_frame"]
    print(f"reference         {part['frames_per_second']:.0f} frames/s acknowledged by the ack-only consumer "
          f"({frames} frames, {report['unacked']} unacked): what broker + fleet allow here")
    print(f"  CPU per frame   consumer {cpu['reference_consumer']:.1f} us | broker {cpu['broker']:.1f} us | "
          f"fleet {cpu['fleet']:.1f} us")


def ingest(figures, state, args):
    hz, conninfo = int(args["hz"]), args["conninfo"]
    report = json.load(open(f"{state}/fleet.json"))
    frames = report["framesGenerated"]
    wall = float(args["end"]) - float(args["start"])
    rows = int(psql(conninfo, "SELECT (SELECT count(*) FROM readings) + (SELECT count(*) FROM interval_readings)"
                              " + (SELECT count(*) FROM uplink_frames) + (SELECT count(*) FROM alarms)"))
    gateway, broker, database = (cpu_us(args, name, hz, frames) for name in ("gateway", "broker", "postgres"))
    rate = fleet_rate(report)
    ceiling = figures.get("reference", {}).get("frames_per_second", 0)
    part = {
        "frames": frames,
        "readings": report["readings"],
        "daily_reports": report["dailyReports"],
        "alarms": report["alarms"],
        "rows": rows,
        "wall_seconds_until_stored": round(wall, 2),
        "frames_per_second_stored": round(frames / wall, 1),
        "frames_per_second_acked": round(rate, 1),
        "fraction_of_reference": round(rate / ceiling, 3) if ceiling else None,
        "acked": report["acked"],
        "unacked": report["unacked"],
        "cpu_us_per_frame": {
            "gateway": round(gateway, 2),
            "broker": round(broker, 2),
            "postgresql": round(database, 2),
            "fleet": round(fleet_cpu_us(state, "fleet", frames), 2),
        },
        "gateway_broker_cpu_ratio": round(gateway / max(broker, 1e-9), 3),
        "gateway_frames_per_cpu_second": round(1e6 / max(gateway, 1e-9)),
    }
    # The gateway against the ack-only consumer of the same run: the MQTT client's own cost per frame is in both.
    consumer = figures.get("reference", {}).get("cpu_us_per_frame", {}).get("reference_consumer")
    if consumer:
        part["gateway_reference_consumer_cpu_ratio"] = round(gateway / max(consumer, 1e-9), 3)
    figures["ingest"] = part
    cpu = part["cpu_us_per_frame"]
    print(f"frames            {frames} ({report['readings']} readings, {report['dailyReports']} daily reports x 48 "
          f"points, {report['alarms']} alarms); rows written {rows}")
    print(f"throughput        {frames / wall:.0f} frames/s stored ({wall:.1f} s from first publish to last frame "
          f"stored), {rows / wall:.0f} rows/s; {rate:.0f} frames/s acked as the fleet saw it")
    if ceiling:
        print(f"vs reference      {rate / ceiling:.2f} of the ack-only consumer's {ceiling:.0f} frames/s")
    print(f"CPU per frame     gateway {gateway:.1f} us | broker {broker:.1f} us | PostgreSQL {database:.1f} us | "
          f"fleet {cpu['fleet']:.1f} us")
    consumer_ratio = part.get("gateway_reference_consumer_cpu_ratio")
    print(f"ratios            gateway/broker {part['gateway_broker_cpu_ratio']:.2f} | gateway/PostgreSQL "
          f"{gateway / max(database, 1e-9):.2f}"
          + (f" | gateway/ack-only consumer {consumer_ratio:.2f}" if consumer_ratio else ""))
    print(f"gateway capacity  {part['gateway_frames_per_cpu_second']} frames/s per core of gateway CPU")
    print(f"acks              {report['acked']} acked, {report['unacked']} unacked")


def validation(figures, args):
    hz, conninfo, meters = int(args["hz"]), args["conninfo"], int(args["meters"])
    wall = float(args["end"]) - float(args["start"])
    gateway, database = cpu_us(args, "gateway", hz, meters), cpu_us(args, "postgres", hz, meters)
    # Validated readings: from v25 their verdicts live apart (the view readings_validated), before on the row.
    reads = int(psql(conninfo, "SELECT count(*) FROM readings_validated WHERE quality IS NOT NULL"
                     if psql(conninfo, "SELECT to_regclass('readings_validated') IS NOT NULL") == "t"
                     else "SELECT count(*) FROM readings WHERE quality IS NOT NULL"))
    days = int(psql(conninfo, "SELECT count(*) FROM daily_reads"))
    part = {
        "meters": meters,
        "readings": reads,
        "days": days,
        "seconds": round(wall, 2),
        "meters_per_second": round(meters / wall, 1),
        "cpu_us_per_meter": {"gateway": round(gateway), "postgresql": round(database),
                             "total": round(gateway + database)},
    }
    figures["validation"] = part
    print(f"validation        {meters} meters ({reads} readings, {days} days) in {wall:.1f} s, "
          f"{meters / wall:.0f} meters/s")
    print(f"CPU per meter     gateway {gateway:.0f} us | PostgreSQL {database:.0f} us | total "
          f"{gateway + database:.0f} us")
    print("days by quality   " + psql(conninfo, "SELECT string_agg(quality || ' ' || n, ', ') FROM (SELECT "
                                     "read_quality_name(quality) AS quality, count(*) n FROM daily_reads "
                                     "GROUP BY 1 ORDER BY 1) s"))


# The time-series tables whose size counts towards bytes per meter-day (with their indexes and TOAST).
BYTES_PER_METER_DAY_SQL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sql", "bytes-per-meter-day.sql")


def bytes_per_meter_day(conninfo):
    """Bytes on disk per meter-day, measured by scripts/sql/bytes-per-meter-day.sql (the one definition): heap, TOAST
    and indexes of the time-series tables (partitions included) over the meters stored. The bench sends each meter one
    day's report and then readings, so bytes per meter is the figure per meter-day.

    Returns (bytes per meter-day, {table: bytes}).
    """
    output = subprocess.run(["psql", "-X", "-q", "-A", "-F", "|", "-f", BYTES_PER_METER_DAY_SQL, conninfo],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    tables, per_meter_day = {}, None
    for line in output:
        fields = line.split("|")
        if line.startswith("bytes_per_meter_day "):
            value = line.split()[1]
            per_meter_day = int(value) if value.isdigit() else None
        elif len(fields) == 4 and fields[1].isdigit() and not fields[0].startswith("total"):
            tables[fields[0]] = int(fields[1])
    return per_meter_day, tables


# The two storage loads: the bench's own (phase 4: a daily report per meter, then readings as fast as acks allow) and
# a gas meter's day (phase 6, scripts/storage-load.sh: each meter sends its daily report once): JSON key, printed
# label (padded to the figures' column), prefix of the machine-readable lines.
STORAGE_LOADS = {
    "storage": ("storage", "storage", ""),
    "storage-daily-report": ("storage_daily_report", "daily-report day", "daily_report_"),
}


def storage(figures, args, load="storage"):
    key, label, prefix = STORAGE_LOADS[load]
    per_meter_day, tables = bytes_per_meter_day(args["conninfo"])
    total = sum(tables.values())
    figures[key] = {"bytes": total, "tables": tables, "bytes_per_meter_day": per_meter_day,
                    "method": "scripts/sql/bytes-per-meter-day.sql"}
    per = f"{per_meter_day:,}" if per_meter_day else "n/a"
    breakdown = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in tables.items())
    print(f"{label:<17} {per} bytes per meter-day ({total / 1e6:.1f} MB: {breakdown})")
    if "v16_conninfo" in args:
        # The same rows in the v16 layout (scripts/sql/copy-to-v16.sql), measured by the same SQL.
        v16_per_meter_day, v16_tables = bytes_per_meter_day(args["v16_conninfo"])
        v16_total = sum(v16_tables.values())
        ratio = round(v16_per_meter_day / per_meter_day, 2) if per_meter_day and v16_per_meter_day else None
        figures[key].update({"bytes_per_meter_day_v16_same_data": v16_per_meter_day, "v16_bytes": v16_total,
                             "v16_tables": v16_tables, "v16_over_now": ratio,
                             "v16_method": "scripts/sql/copy-to-v16.sql into a v16 schema"})
        breakdown = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in v16_tables.items())
        print(f"{label + ' v16':<17} {v16_per_meter_day:,} bytes per meter-day, same rows in the v16 layout "
              f"({v16_total / 1e6:.1f} MB: {breakdown})")
        print(f"{prefix}bytes_per_meter_day_v16_same_data {v16_per_meter_day}")
        print(f"{prefix}bytes_per_meter_day {per_meter_day}")
        print(f"{label + ' ratio':<17} v16 / now = {ratio}")


def alarms(figures, state, args):
    output = json.load(open(f"{state}/alarms.json"))
    report = output["alarms"]
    # Alarm frames that repeated an earlier frame's stored key (meter, second, code): one stored alarm, no event.
    part = {"rate_frames_per_second": float(args["rate"]), "alarms_published": report["alarmsPublished"],
            "alarms_merged": report.get("merged", 0)}
    line = []
    for channel in ("notify", "dispatch"):
        latency = report[channel]["latency"]
        part[channel] = {"p50_ms": round(latency["p50Milliseconds"], 1), "p99_ms": round(latency["p99Milliseconds"], 1),
                         "max_ms": round(latency["maxMilliseconds"], 1), "count": latency["count"],
                         "missing": report[channel]["missing"]}
        p = part[channel]
        line.append(f"{channel} p50 {p['p50_ms']:.1f} / p99 {p['p99_ms']:.1f} / max {p['max_ms']:.1f} ms"
                    + (f" ({p['missing']} missing)" if p["missing"] else ""))
    figures["alarm_latency"] = part
    merged = f" (+{part['alarms_merged']} merged into an earlier alarm)" if part["alarms_merged"] else ""
    print(f"alarm latency     {report['alarmsPublished']} alarms{merged} at {float(args['rate']):.0f} frames/s: "
          + " | ".join(line))
    stages = report.get("stages")
    if stages:
        # Where the time went: publish -> gateway receive -> NOTIFY -> dispatch topic.
        part["stages"] = {}
        line = []
        for name, label in (("publishToReceive", "publish>receive"), ("receiveToNotify", "receive>notify"),
                            ("notifyToDispatch", "notify>dispatch")):
            stage = stages[name]
            part["stages"][name] = {"p50_ms": round(stage["p50Milliseconds"], 1),
                                    "p99_ms": round(stage["p99Milliseconds"], 1),
                                    "max_ms": round(stage["maxMilliseconds"], 1)}
            line.append(f"{label} {stage['p50Milliseconds']:.1f}/{stage['p99Milliseconds']:.1f}")
        print("  stages p50/p99  " + " | ".join(line) + " ms")


def memory(figures, args):
    kb = int(args["vmhwm_kb"])
    figures["memory"] = {"gateway_peak_rss_kb": kb}
    print(f"peak RSS          gateway {kb / 1024:.1f} MiB (VmHWM)")


# Capacity model: every assumption is a named input here; the measured figures come from FIGURES.
FLEETS = [1_000_000, 10_000_000, 60_000_000]
DAILY_WINDOW_SECONDS = 2 * 3600      # a gas group's daily reports arrive within about two hours
FRAMES_PER_METER_DAY = 1             # one daily report (48 half-hour points) per meter and day
TARGET_UTILISATION = 0.5             # plan for half the measured capacity (bursts, failover of one member)
VALIDATION_WINDOW_SECONDS = 20 * 3600  # the day's validation may take the rest of the day
RETENTION_DAYS = 400                 # kept on line: a billing year plus disputes


def capacity(figures):
    # Disk per meter-day: a gas meter's day (phase 6, one daily report per meter, as the table assumes) when the run
    # measured it, else the bench's own frame-heavy load (an upper bound).
    ingest = figures["ingest"]
    storage_part = figures.get("storage_daily_report") or figures.get("storage", {})
    gateway_us = ingest["cpu_us_per_frame"]["gateway"]
    broker_us = ingest["cpu_us_per_frame"]["broker"]
    database_us = ingest["cpu_us_per_frame"]["postgresql"]
    validation = figures.get("validation", {}).get("cpu_us_per_meter", {})
    validation_gateway_us, validation_us = validation.get("gateway", 0), validation.get("postgresql", 0)
    per_meter_day = storage_part.get("bytes_per_meter_day") or 0
    print("| meters | peak frames/s | gateway cores (ingest + validation) | broker cores | PostgreSQL cores "
          "(ingest + validation) | disk per day | PostgreSQL size at retention |")
    print("|---|---|---|---|---|---|---|")
    for meters in FLEETS:
        peak = meters * FRAMES_PER_METER_DAY / DAILY_WINDOW_SECONDS
        gateway = peak * gateway_us / 1e6 + meters * validation_gateway_us / 1e6 / VALIDATION_WINDOW_SECONDS
        gateways = math.ceil(gateway / TARGET_UTILISATION)
        brokers = math.ceil(peak * broker_us / 1e6 / TARGET_UTILISATION)
        database = peak * database_us / 1e6 + meters * validation_us / 1e6 / VALIDATION_WINDOW_SECONDS
        database_cores = math.ceil(database / TARGET_UTILISATION)
        per_day = meters * per_meter_day
        disk = (f"{per_day / 1e9:,.1f} GB | {per_day * RETENTION_DAYS / 1e12:,.1f} TB" if per_meter_day
                else "not measured | not measured")
        print(f"| {meters:,} | {peak:,.0f} | {max(gateways, 1)} | {max(brokers, 1)} | {max(database_cores, 1)} | "
              f"{disk} |")
    print(f"\ninputs: gateway {gateway_us} us, broker {broker_us} us, PostgreSQL {database_us} us CPU per frame; "
          f"validation gateway {validation_gateway_us} us, PostgreSQL {validation_us} us per meter; {per_meter_day} bytes per meter-day; "
          f"window {DAILY_WINDOW_SECONDS} s, {FRAMES_PER_METER_DAY} frame per meter-day, utilisation "
          f"{TARGET_UTILISATION}, validation window {VALIDATION_WINDOW_SECONDS} s, retention {RETENTION_DAYS} days")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    command, path = argv[1], argv[2]
    figures = load(path)
    if command in ("reference", "ingest", "alarms"):
        state, args = argv[3], arguments(argv[4:])
        {"reference": reference, "ingest": ingest, "alarms": alarms}[command](figures, state, args)
    elif command in ("validation", "memory"):
        {"validation": validation, "memory": memory}[command](figures, arguments(argv[3:]))
    elif command in STORAGE_LOADS:
        storage(figures, arguments(argv[3:]), command)
    elif command == "capacity":
        capacity(figures)
        return
    else:
        sys.exit(f"unknown part {command!r}\n{__doc__}")
    save(path, figures)


if __name__ == "__main__":
    main(sys.argv)
