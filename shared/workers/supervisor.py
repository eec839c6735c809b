"""The supervisor of `one-api --workers N`: binds the sockets once, starts N workers (each a fresh
`python -m shared.cli` told its slot through the environment), restarts one that dies, and stops
them all on SIGTERM/SIGINT.

Signals are handled synchronously (blocked, then taken with sigtimedwait) so that a signal never
lands in the middle of a restart. Workers run in their own process group: a Ctrl-C in a terminal
reaches the supervisor alone, which turns it into one SIGTERM per worker (the graceful drain); a
second signal is passed on as is (a second SIGINT makes uvicorn give up waiting). A worker gets
SIGTERM if the supervisor itself dies, so none is left behind.

A master's relay workers are stopped before worker 0: they ship their last quota batches to worker
0's gRPC server, which must still be there to acknowledge them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from shared.logs import get_logger, setup_logging
from shared.settings import Settings
from shared.workers.launch import Launch, stranded_spools

log = get_logger(__name__)

SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD}
QUICK_EXIT = 10.0  # seconds: a worker dying sooner than this after its start is crash-looping
MAX_BACKOFF = 10.0
CONFIG_ERRORS = (2, 3)  # our settings errors, uvicorn's startup failure: a restart cannot help
PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(None, use_errno=True)


def _child_setup(parent: int) -> None:
    """In the forked child, before exec: unblock signals, die with the supervisor."""
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os._exit(1)


@dataclass
class Worker:
    index: int
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    starts: int = 0
    quick_deaths: int = 0
    restart_at: float | None = None
    exit_code: int | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None


class Supervisor:
    def __init__(self, settings: Settings, launch: Launch) -> None:
        self.settings, self.launch = settings, launch
        self.workers = [Worker(i) for i in range(settings.workers)]
        self.stopping = False
        self.signals_seen = 0
        self.master_stopped = False
        self.failure: int | None = None  # a worker's configuration error: stop and exit with it

    def _spawn(self, worker: Worker) -> None:
        env = self.launch.env(worker.index, os.environ)
        # --port only names the node in its logs and default NODE_ID: the socket comes ready-made.
        command = [sys.executable, "-m", "shared.cli", "--port", str(self.settings.port), "--log-dir", self.settings.log_dir]
        parent = os.getpid()
        worker.proc = subprocess.Popen(
            command, env=env, pass_fds=self.launch.fds(worker.index), process_group=0, preexec_fn=lambda: _child_setup(parent)
        )
        worker.started_at, worker.restart_at = time.monotonic(), None
        worker.starts += 1
        log.info("worker started", worker=worker.index, pid=worker.proc.pid, role=self._role(worker.index))

    def _role(self, index: int) -> str:
        if not self.settings.is_master:
            return "slave"
        return "master" if index == 0 else "relay"

    def run(self) -> int:
        for worker in self.workers:
            self._spawn(worker)
        while not self.stopping or any(w.alive for w in self.workers):
            timeout = self._next_restart()
            info = signal.sigtimedwait(SIGNALS, timeout) if timeout is not None else signal.sigwaitinfo(SIGNALS)
            if info is None:
                pass
            elif info.si_signo == signal.SIGCHLD:
                self._reap()
            else:
                self._on_stop_signal(info.si_signo)
            self._restart_due()
        if self.failure is not None:
            return self.failure
        # uvicorn re-raises the stop signal once drained: death by SIGTERM/SIGINT is a clean stop.
        clean = (None, 0, -signal.SIGTERM, -signal.SIGINT)
        return 0 if all(w.exit_code in clean for w in self.workers) else 1

    def _next_restart(self) -> float | None:
        due = [w.restart_at for w in self.workers if w.restart_at is not None]
        return max(0.0, min(due) - time.monotonic()) if due else None

    def _restart_due(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            if worker.restart_at is not None and worker.restart_at <= now:
                self._spawn(worker)

    def _reap(self) -> None:
        for worker in self.workers:
            if worker.proc is None or worker.proc.poll() is None:
                continue
            code, pid = worker.proc.returncode, worker.proc.pid
            worker.proc, worker.exit_code = None, code
            if self.stopping:
                log.info("worker stopped", worker=worker.index, pid=pid, code=code)
                continue
            if worker.starts == 1 and code in CONFIG_ERRORS:
                log.error("worker could not start; stopping the node", worker=worker.index, pid=pid, code=code)
                self.failure = code
                self._stop_all(signal.SIGTERM)
                continue
            uptime = time.monotonic() - worker.started_at
            worker.quick_deaths = worker.quick_deaths + 1 if uptime < QUICK_EXIT else 0
            delay = min(0.5 * 2 ** (worker.quick_deaths - 1), MAX_BACKOFF) if worker.quick_deaths else 0.0
            log.warning(
                "worker exited unexpectedly; restarting it",
                worker=worker.index,
                pid=pid,
                code=code,
                uptime_s=round(uptime, 1),
                delay_s=delay,
            )
            worker.restart_at = time.monotonic() + delay
        if self.stopping:
            self._stop_master_last()

    def _on_stop_signal(self, signo: int) -> None:
        self.signals_seen += 1
        if self.signals_seen > 1:
            log.warning("second stop signal: passed on to every worker", signal=signal.Signals(signo).name)
            self._signal_all(signo)
            return
        log.info("stopping workers", signal=signal.Signals(signo).name)
        self._stop_all(signal.SIGTERM)

    def _stop_all(self, signo: int) -> None:
        self.stopping = True
        for worker in self.workers:
            worker.restart_at = None
        if self.settings.is_master:
            for worker in self.workers[1:]:
                self._send(worker, signo)
            self._stop_master_last()
        else:
            self._signal_all(signo)

    def _stop_master_last(self) -> None:
        if self.settings.is_master and not self.master_stopped and not any(w.alive for w in self.workers[1:]):
            self.master_stopped = True
            self._send(self.workers[0], signal.SIGTERM)

    def _signal_all(self, signo: int) -> None:
        for worker in self.workers:
            self._send(worker, signo)

    @staticmethod
    def _send(worker: Worker, signo: int) -> None:
        if worker.proc is not None and worker.proc.returncode is None:
            try:
                worker.proc.send_signal(signo)
            except ProcessLookupError:
                pass


def supervise(settings: Settings) -> int:
    """Run the node as `settings.workers` processes until a stop signal; the exit code."""
    # Blocked before any thread starts (the log writer's): a thread created earlier would keep the
    # signals unblocked and SIGTERM could land there, killing the supervisor without its order.
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    # Blocked signals are queued only if not ignored; SIGCHLD's default is to ignore.
    signal.signal(signal.SIGCHLD, lambda *_: None)
    setup_logging(settings.log_dir, settings.only_one_log_file, settings.debug)
    try:
        launch = Launch.bind(settings)
    except OSError as exc:
        log.error("cannot listen", host=settings.host, port=settings.port, error=str(exc))
        return 1
    for path in stranded_spools(settings):
        log.warning(
            "a spool holds quota batches no worker of this launch ships; start once with the worker count that wrote them", path=str(path)
        )
    if settings.is_master and launch.secret_generated:
        log.info("CLUSTER_SECRET is not set: a random one for this launch links the relay workers to worker 0; GRPC_PORT stays closed")
    log.info("starting workers", workers=settings.workers, port=settings.port, node_type=settings.node_type)
    try:
        return Supervisor(settings, launch).run()
    finally:
        launch.close()
