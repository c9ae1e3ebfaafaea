"""Flows the tests run.  Their decorators carry no postmortem-scribe hooks unless said so."""

from __future__ import annotations

import asyncio
import csv
import sys

from postmortem_scribe_prefect import on_flow_failure, on_task_failure
from prefect import flow, get_run_logger, task


def _read_csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = []
        for values in reader:
            if len(values) != len(header):
                raise ValueError(
                    f"Error tokenizing data. Expected {len(header)} fields in line "
                    f"{reader.line_num}, saw {len(values)}"
                )
            rows.append(dict(zip(header, values, strict=True)))
    return rows


# --- failure in the flow body, hooks in the decorator ---------------------------------------


@flow(name="flow-body-fails", on_failure=[on_flow_failure], on_crashed=[on_flow_failure])
def flow_body_fails(threshold: int = 3) -> None:
    get_run_logger().info("checking the threshold %s", threshold)
    raise RuntimeError(f"threshold {threshold} exceeded: 7 rejected rows")


# --- subflow -----------------------------------------------------------------------------


@task(name="parse-batch")
def parse_batch(batch_path: str) -> list[dict[str, str]]:
    get_run_logger().info("parsing batch %s", batch_path)
    return _read_csv(batch_path)


@flow(name="child-loader")
def child_loader(batch_path: str) -> int:
    return len(parse_batch(batch_path))


@flow(name="parent-orchestrator")
def parent_orchestrator(batch_path: str) -> int:
    get_run_logger().info("starting the child loader")
    return child_loader(batch_path)


# --- retries -----------------------------------------------------------------------------


@task(name="flaky-extract", retries=2, retry_delay_seconds=0, on_failure=[on_task_failure])
def flaky_extract(source_path: str) -> None:
    get_run_logger().info("extracting %s", source_path)
    raise ConnectionRefusedError(111, "Connection refused: warehouse.internal:5432")


@flow(name="retrying-flow", on_failure=[on_flow_failure])
def retrying_flow(source_path: str) -> None:
    flaky_extract(source_path)


# --- async -------------------------------------------------------------------------------


@task(name="async-read")
async def async_read(input_path: str) -> list[dict[str, str]]:
    await asyncio.sleep(0)
    get_run_logger().info("async reading %s", input_path)
    return _read_csv(input_path)


@flow(name="async-flow")
async def async_flow(input_path: str) -> int:
    rows = await async_read(input_path)
    return len(rows)


# --- crash -------------------------------------------------------------------------------


@flow(name="exits-hard", on_failure=[on_flow_failure], on_crashed=[on_flow_failure])
def exits_hard() -> None:
    get_run_logger().info("about to call sys.exit(3)")
    sys.exit(3)


# --- success then failure, for input profiles -------------------------------------------


@task(name="load-orders")
def load_orders(input_path: str) -> int:
    return len(_read_csv(input_path))


@flow(name="profiled-flow")
def profiled_flow(input_path: str) -> int:
    return load_orders(input_path)


# --- a token in the logs, for the Secret block ----------------------------------------------


@flow(name="leaky-flow", on_failure=[on_flow_failure])
def leaky_flow(token: str) -> None:
    # User code that logs a credential: the draft must not repeat it.
    get_run_logger().info("calling the partner API as %s", token)
    raise PermissionError(f"partner API refused {token}: 403 Forbidden")


# --- a mapped task whose every run fails: a storm inside one flow run -----------------------


@task(name="score-part")
def score_part(part_path: str) -> float:
    raise ValueError(f"cannot score {part_path}: header row missing")


@flow(name="mapped-flow")
def mapped_flow(part_paths: list[str]) -> list[float]:
    return score_part.map(part_paths).result()
