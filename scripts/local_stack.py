"""`make run`: the whole app on this machine, in one command.

Starts moto (the local DynamoDB and SES), creates the table, loads the saved
data (`.local/data.json`) or the demo data, serves the app with `chalice local`
and fires the scheduled jobs on their schedules, since `chalice local` never
does (see `scripts/local_scheduler.py`). Ctrl-C (or SIGTERM) saves the table to
`.local/data.json` and stops every process this started: moto keeps data in
memory only.

Environment overrides (the tests use them): CIRCLES_LOCAL_PORT (8000),
CIRCLES_MOTO_PORT (5055), CIRCLES_LOCAL_DIR (.local), CIRCLES_LOCAL_AUTORELOAD
(1: restart `chalice local` when the app's code changes; 0 turns that off).
"""
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = '127.0.0.1'
STATE_FILE = 'local_stack.json'
DATA_FILE = 'data.json'

log = logging.getLogger('local_stack')


class StackError(Exception):
    """Why the stack cannot start or keep running, in words a developer can act on."""


class Shutdown(BaseException):
    """Raised in the main thread by SIGINT/SIGTERM, so startup or the wait loop unwinds."""


# --- configuration -----------------------------------------------------------------

@dataclass
class Options:
    port: int
    moto_port: int
    local_dir: Path
    autoreload: bool

    @property
    def site_url(self):
        return f'http://{HOST}:{self.port}'

    @classmethod
    def from_environment(cls):
        env = os.environ.get
        return cls(port=int(env('CIRCLES_LOCAL_PORT', '8000')),
                   moto_port=int(env('CIRCLES_MOTO_PORT', '5055')),
                   local_dir=Path(env('CIRCLES_LOCAL_DIR', ROOT / '.local')).resolve(),
                   autoreload=env('CIRCLES_LOCAL_AUTORELOAD', '1') not in ('0', 'false', 'no'))


def local_environment(moto_url, site_url):
    """What the app, the jobs and the CLI need to talk to moto and never to a real AWS account."""
    return {
        'AWS_ENDPOINT_URL': moto_url,
        'AWS_ACCESS_KEY_ID': 'local',
        'AWS_SECRET_ACCESS_KEY': 'local',
        'AWS_DEFAULT_REGION': 'us-east-1',
        'AWS_CONFIG_FILE': os.devnull,
        'AWS_SHARED_CREDENTIALS_FILE': os.devnull,
        'AWS_EC2_METADATA_DISABLED': 'true',
        'AWS_XRAY_SDK_ENABLED': 'false',
        'CIRCLES_STAGE': 'local',
        'CIRCLES_TABLE': 'circles-local',
        'CIRCLES_BASE_URL': site_url,
    }


def point_this_process_at(moto_url, site_url):
    for name in ('AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN',
                 'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE'):
        os.environ.pop(name, None)
    os.environ.update(local_environment(moto_url, site_url))


# --- one instance at a time ------------------------------------------------------------

def _is_local_stack(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f'/proc/{pid}/cmdline')
    if cmdline.exists():  # a pid reused after a crash or reboot is not us
        return b'local_stack' in cmdline.read_bytes()
    return True


def claim_state_file(options):
    """Create `.local/local_stack.json` for this process, or refuse if a live stack owns it."""
    options.local_dir.mkdir(parents=True, exist_ok=True)
    path = options.local_dir / STATE_FILE
    for _ in range(2):
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                other = json.loads(path.read_text())
            except (OSError, ValueError):
                other = {}
            pid = other.get('pid')
            if isinstance(pid, int) and _is_local_stack(pid):
                raise StackError(
                    f"The local stack is already running (pid {pid}) at {other.get('site_url', '?')}/ .\n"
                    f'Use that one, or stop it first: Ctrl-C in its terminal, or `kill -INT {pid}`.')
            path.unlink(missing_ok=True)   # left behind by a stack that was killed
            continue
        with os.fdopen(descriptor, 'w') as file:
            json.dump({'pid': os.getpid(), 'site_url': options.site_url}, file)
        return path
    raise StackError(f'Could not claim {path}; remove it if no local stack is running.')


def write_state(path, **fields):
    state = json.loads(path.read_text())
    state.update(fields)
    path.write_text(json.dumps(state))


# --- ports and child processes -------------------------------------------------------

def port_in_use(port):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def what_answers(url):
    """A short description of the server already on `url`, for the refusal message."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            status, body = response.status, response.read(2000).decode('utf-8', 'replace')
    except urllib.error.HTTPError as error:
        status, body = error.code, ''
    except OSError as error:
        return f'it accepts connections but does not answer HTTP ({error})'
    title = re.search(r'<title>(.*?)</title>', body, re.S | re.I)
    return f'it answers HTTP {status}' + (f' with the page "{title.group(1).strip()}"' if title else '')


def wait_until_answers(url, process, name, timeout=30):
    """Block until `url` gives any HTTP answer; fail early if `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f'{name} exited with code {process.returncode} while starting.')
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise StackError(f'{name} did not answer {url} within {timeout} s.')


def venv_executable(name):
    return shutil.which(name, path=str(Path(sys.executable).parent)) or name


STARTED = []   # every child process this run started, so a stop at any moment stops them all


def start_process(command, **kwargs):
    """Its own session: a Ctrl-C in the terminal reaches only us, so we can save data first."""
    process = subprocess.Popen(command, start_new_session=True, cwd=ROOT, **kwargs)
    STARTED.append(process)
    return process


def stop_process(process, timeout=5):
    """Stop the process and everything in its process group (chalice's reloader has a worker)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)   # whatever of the group is still there
    except ProcessLookupError:
        pass
    process.wait()


def start_moto(options, log_file):
    port = options.moto_port
    if port_in_use(port):
        wanted, port = port, free_port()
        print(f'Port {wanted} is busy ({what_answers(f"http://{HOST}:{wanted}/moto-api/")}); '
              f'starting moto on port {port} instead.', flush=True)
    # moto_server with DynamoDB's atomicity (one lock around DynamoDB requests)
    process = start_process([sys.executable, '-m', 'scripts.moto_launcher', '-H', HOST, '-p', str(port)],
                            stdout=log_file, stderr=subprocess.STDOUT)
    url = f'http://{HOST}:{port}'
    wait_until_answers(f'{url}/moto-api/data.json', process, 'moto_server')
    return process, url


def start_chalice(options):
    """`chalice local` with the local stage. Chalice copies the stage's environment variables
    from `.chalice/config.json` over ours (CIRCLES_*); AWS_ENDPOINT_URL and the dummy
    credentials are not in the config, so they come from our environment.

    Chalice's own autoreload is off: it polls every file under the project (.venv
    included, ~25k files a second) and restarts whenever tests write caches.
    `CodeWatcher` restarts it when the app's own files change instead.
    """
    command = [venv_executable('chalice'), 'local', '--host', HOST, '--port', str(options.port),
               '--stage', 'local', '--no-autoreload']
    process = start_process(command)
    try:
        wait_until_answers(f'{options.site_url}/', process, 'chalice local')
    except StackError:
        stop_process(process)
        raise
    return process


def restart_chalice(chalice, options):
    """After a code change. A broken edit leaves the site down until the next save, not the stack."""
    if chalice is not None:
        stop_process(chalice)
    try:
        return start_chalice(options)
    except StackError as error:
        log.error('%s Fix the code and save again; the site restarts on the next change.', error)
        return None


class CodeWatcher:
    """Notices edits to the app's code, templates and Chalice config (a few hundred files)."""
    WATCHED = ['app.py', '.chalice/config.json', 'chalicelib', 'templates']

    def __init__(self):
        self.mtimes = self.snapshot()

    def snapshot(self):
        mtimes = {}
        for name in self.WATCHED:
            path = ROOT / name
            files = [path] if path.is_file() else [p for p in path.rglob('*')
                                                    if p.is_file() and '__pycache__' not in p.parts]
            for file in files:
                try:
                    mtimes[file] = file.stat().st_mtime_ns
                except FileNotFoundError:
                    pass
        return mtimes

    def changed_files(self):
        current = self.snapshot()
        changed = sorted(str(p.relative_to(ROOT)) for p in current.keys() ^ self.mtimes.keys()
                         | {p for p in current if p in self.mtimes and current[p] != self.mtimes[p]})
        self.mtimes = current
        return changed


# --- data ---------------------------------------------------------------------------

def prepare_table(data_path):
    """Create the table and verify the sender, then restore the saved data or load the demo."""
    from chalicelib.ops import admin
    admin.create_table()
    admin.verify_local_sender()
    if data_path.exists():
        try:
            count = admin.load(data_path)
        except (ValueError, KeyError) as error:
            raise StackError(f'{data_path} could not be loaded ({error}). Fix it, or `make reset` '
                                 'to start again from the demo data.') from error
        return f'Restored {count} items from {data_path}'
    from chalicelib.ops.demo import load_demo_data
    load_demo_data()
    return 'Loaded the demo data'


def save_table(data_path):
    """Dump to a temporary file first, so an interrupted save never destroys the last good one."""
    from chalicelib.ops import admin
    partial = data_path.with_suffix('.partial')
    count = admin.dump(partial)
    os.replace(partial, data_path)
    return count


# --- main ---------------------------------------------------------------------------

def _raise_shutdown(signum, frame):
    raise Shutdown(signal.Signals(signum).name)


def _still_saving(signum, frame):
    print('Still saving and stopping, one moment...', flush=True)


def print_banner(options, moto_url, data_message):
    from chalicelib.ops.demo import demo_logins
    lines = [
        '',
        f'  Circles is running.  {data_message}.',
        f'  Site:    {options.site_url}/',
        f'  API:     {options.site_url}/api/learningcircles/',
        f'  Outbox:  {options.site_url}/local/outbox',
        f'  Moto:    {moto_url}/moto-api/',
        '  Demo logins:',
        *(f"    {login['role']:<12} {login['email']}  password: {login['password']}"
          for login in demo_logins()),
        f'  Data is saved to {options.local_dir / DATA_FILE} when you press Ctrl-C; `make reset` wipes it.',
    ]
    if options.port != 8000:
        lines.append('  Note: links in emails use CIRCLES_BASE_URL from .chalice/config.json (port 8000).')
    print('\n'.join(lines) + '\n', flush=True)


def start_outbox_sender():
    """The outbox sender on the table's stream, as Lambda's event source mapping runs it in AWS:
    a thread here polls moto's stream and calls the same handler (scripts/stream_poller.py)."""
    from chalicelib.handlers.sender import send_outbox
    from scripts.stream_poller import StreamPoller
    log.info('outbox sender: polling the table stream')
    return StreamPoller(send_outbox).start()


def run(options):
    """Start everything, wait for a signal or a crash, then save and stop. Returns the exit code."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    state_path = claim_state_file(options)
    moto = chalice = scheduler = poller = None
    data_path = options.local_dir / DATA_FILE
    data_ready = False
    exit_code = 0
    try:
        if port_in_use(options.port):
            raise StackError(
                f'Something is already serving {options.site_url}/ ({what_answers(options.site_url + "/")}).\n'
                'Stop it, or choose another port with CIRCLES_LOCAL_PORT=8001 make run.')
        with open(options.local_dir / 'moto.log', 'ab') as moto_log:
            moto, moto_url = start_moto(options, moto_log)
        point_this_process_at(moto_url, options.site_url)
        write_state(state_path, site_url=options.site_url, moto_url=moto_url)
        data_message = prepare_table(data_path)
        data_ready = True
        log.info('%s; starting chalice local on %s', data_message, options.site_url)
        chalice = start_chalice(options)
        poller = start_outbox_sender()
        from app import app
        from scripts.local_scheduler import LocalScheduler, scheduled_jobs
        jobs = scheduled_jobs(app)
        for job in jobs:
            log.info('scheduler: %s on %s', job.name, job.expression)
        scheduler = LocalScheduler(jobs)
        if jobs:
            scheduler.start()
        watcher = CodeWatcher() if options.autoreload else None
        print_banner(options, moto_url, data_message)
        next_check = time.monotonic() + 1
        while True:
            if watcher and time.monotonic() >= next_check:
                next_check = time.monotonic() + 1
                changed = watcher.changed_files()
                if changed:
                    log.info('changed: %s; restarting chalice local', ', '.join(changed[:3]))
                    chalice = restart_chalice(chalice, options)
            if moto.poll() is not None:
                data_ready = False   # nothing left to save
                raise StackError(f'moto_server exited unexpectedly (code {moto.returncode}); '
                                     'the data since the last start is lost. See '
                                     f"{options.local_dir / 'moto.log'}.")
            if chalice is not None and chalice.poll() is not None:
                raise StackError(f'chalice local exited unexpectedly (code {chalice.returncode}).')
            time.sleep(0.3)
    except Shutdown as stop:
        print(f'\n{stop}: stopping the local stack...', flush=True)
    except StackError as refusal:
        print(f'\n{refusal}', file=sys.stderr, flush=True)
        exit_code = 1
    finally:
        signal.signal(signal.SIGINT, _still_saving)
        signal.signal(signal.SIGTERM, _still_saving)
        if scheduler is not None and scheduler.is_alive():
            scheduler.stop()
        if poller is not None:
            poller.stop()
        for process in STARTED:
            if process is not moto:
                stop_process(process)
        if data_ready and moto.poll() is None:
            try:
                print(f'Saved {save_table(data_path)} items to {data_path}.', flush=True)
            except Exception as error:  # noqa: BLE001 - still stop moto and release the state file
                print(f'Could not save the data to {data_path}: {error}', file=sys.stderr, flush=True)
                exit_code = 1
        if moto is not None:
            stop_process(moto)
        state_path.unlink(missing_ok=True)
    return exit_code


def main():
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s', datefmt='%H:%M:%S')
    for noisy in ('botocore', 'pynamodb'):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    signal.signal(signal.SIGINT, _raise_shutdown)
    signal.signal(signal.SIGTERM, _raise_shutdown)
    try:
        exit_code = run(Options.from_environment())
    except StackError as refusal:
        print(refusal, file=sys.stderr)
        exit_code = 1
    except Shutdown:
        exit_code = 0
    sys.exit(exit_code)


if __name__ == '__main__':
    main()
