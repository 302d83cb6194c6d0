"""Rendering of ``promptfusion soft train``: a progress bar fed by ``SoftProgress`` reports, and the result
lines (training summary, test split beside the majority rate)."""

from __future__ import annotations

__all__ = ["SoftProgressBar", "held_out_line", "summary_line"]


def summary_line(run) -> str:
    """Steps, best dev score, where the prompt is and which vector was stored (an ``TaskTraining``)."""
    record = run.record
    steps = record.curve[-1].step if record.curve else 0
    vector = f"vector: {record.vector} in {run.vector_store}" if record.vector else "no vector stored"
    untrained = (
        "" if record.trained_past_start else " (not trained past its start: the initial prompt was kept)"
    )
    return (
        f"trained {steps} steps, best dev {record.best_dev}{untrained}; prompt: {record.prompt_dir}; {vector}"
    )


def held_out_line(held_out) -> str:
    """Test accuracy with its interval, beside the majority-class rate of the same split (a ``HeldOut``)."""
    row, majority = held_out.row, held_out.majority
    low, high = row.ci
    m_low, m_high = majority.intervals["accuracy"]
    return (
        f"test ({held_out.test_size} examples, {row.calibration} calibration): accuracy {row.accuracy:.3f} "
        f"[{low:.2f}, {high:.2f}]; majority {majority.description}: "
        f"{majority.scores['accuracy']:.3f} [{m_low:.2f}, {m_high:.2f}]"
    )


class SoftProgressBar:
    """A rich progress bar per trained prompt: step, loss, dev score, time left.

    Used as a context manager that yields the ``SoftProgress`` sink; a bar appears with the first report of
    each prompt (its name and planned steps come with the report).
    """

    def __init__(self, console):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self):
        self._bar.__enter__()
        return self.update

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)

    def update(self, progress) -> None:
        if progress.name not in self._tasks:
            self._tasks[progress.name] = self._bar.add_task(progress.name, total=progress.max_steps, info="")
        parts = [
            f"loss {progress.loss:.3f}" if progress.loss is not None else "",
            f"dev {progress.dev:.3f}" if progress.dev is not None else "",
        ]
        info = "  ".join(p for p in parts if p)
        self._bar.update(self._tasks[progress.name], completed=progress.step, info=info)
