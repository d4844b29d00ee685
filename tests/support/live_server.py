"""The Chalice app served over real HTTP on a free 127.0.0.1 port, for the browser tests.

It runs in a background thread of the test process, so it shares this process's
environment: the moto endpoint and table name that conftest set. We build the
server with `chalice.local.create_local_server` (what `chalice local` uses) and
an empty `Config`: with no `.chalice/config.json` read, no stage environment
variables override the test ones, and the local gateway never touches
`os.environ` itself.

`create_local_server` changes the app object's class to one whose
`current_request` is thread-local; that is harmless for `chalice.test.Client`
in the same process, which serves requests on the calling thread.
"""
import threading
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from tests.support.moto_server import free_port


class LiveServer:
    def __init__(self):
        from chalice.config import Config
        from chalice.local import CustomLocalChalice, LocalDevServer, create_local_server

        from app import app
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        if isinstance(app, CustomLocalChalice):
            # A second server in this process (another browser test module): the app's class
            # was swapped already, and swapping it again would make an inheritance cycle.
            self._server = LocalDevServer(app, Config.create(), '127.0.0.1', self.port)
        else:
            self._server = create_local_server(app, Config.create(), '127.0.0.1', self.port)
        self._thread = threading.Thread(target=self._server.server.serve_forever,
                                        name='circles-live-server', daemon=True)
        self._thread.start()
        urllib.request.urlopen(f'{self.url}/static/style.css', timeout=10).read()
        from tests.support import outbox
        outbox.start_background()     # as the stream Lambda would: messages arrive while a page waits

    def local_url(self, url):
        """The same path and query on this server: emails link to the configured public base URL."""
        parts = urlsplit(url)
        return urlunsplit(('http', f'127.0.0.1:{self.port}', parts.path, parts.query, parts.fragment))

    def stop(self):
        from tests.support import outbox
        outbox.stop_background()
        self._server.shutdown()
        self._server.server.server_close()
        self._thread.join(5)
