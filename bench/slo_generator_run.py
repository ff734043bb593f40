"""Runs Google's slo-generator for bench/ingest.py, inside slo-generator's own venv (it
does not import Django or the portal). Computes one report per SLO config through the
Python API (`slo_generator.compute.compute`, exports off) and prints one JSON line: the
time, the peak RSS of this process, and each report's good and bad event counts so the
caller can check they match the portal's rows.

    VENV/bin/python bench/slo_generator_run.py --config C --slos DIR --timestamp T \
        --concurrency 4

The one adjustment: slo-generator 2.6.0's Prometheus backend receives the report's
timestamp but drops it when it calls the HTTP client, so every query would be evaluated at
the server's "now". The client passed in here adds `time=` (which prometheus-http-client
supports) so the reports are computed at the same explicit time as the portal's. The
requests, their count and the rest of slo-generator's work are unchanged."""

from __future__ import annotations

import argparse
import json
import logging
import resource
import time
from concurrent.futures import ThreadPoolExecutor

from prometheus_http_client import Prometheus
from slo_generator import utils
from slo_generator.compute import compute


class PrometheusAt(Prometheus):
    """prometheus-http-client's client, evaluating every instant query at `at`."""

    def __init__(self, url: str, at: float):
        super().__init__()
        self.url = url
        self.at = at

    def query(self, **kwargs):
        kwargs.setdefault("time", self.at)
        return super().query(**kwargs)


def peak_rss_kb() -> int:
    """Peak RSS of this process (VmHWM): ru_maxrss would include the parent's peak."""
    for line in open("/proc/self/status").read().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--slos", required=True, help="folder of SLO config YAML files")
    parser.add_argument("--timestamp", type=float, required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    config = utils.load_config(args.config)
    slo_configs = utils.load_configs(args.slos, kind="ServiceLevelObjective")
    url = config["backends"]["prometheus"]["url"]
    client = PrometheusAt(url, args.timestamp)

    def report(slo_config: dict) -> list[dict]:
        return compute(slo_config, config, timestamp=args.timestamp, client=client)

    started = time.perf_counter()
    if args.concurrency <= 1:
        # What `slo-generator compute -f DIR` does: one SLO config after another.
        results = [report(slo_config) for slo_config in slo_configs]
    else:
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            results = list(pool.map(report, slo_configs))
    seconds = time.perf_counter() - started

    counts = {}
    valid = 0
    for reports in results:
        for item in reports:
            if item.get("valid", True) and "good_events_count" in item:
                valid += 1
                counts[item["metadata"]["name"]] = [
                    item["good_events_count"],
                    item["bad_events_count"],
                ]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "configs": len(slo_configs),
                "reports": sum(len(reports) for reports in results),
                "valid_reports": valid,
                "counts": counts,
                "peak_rss_kb": peak_rss_kb(),
            }
        )
    )


if __name__ == "__main__":
    main()
