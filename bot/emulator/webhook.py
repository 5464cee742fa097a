"""Webhooks: setWebhook/deleteWebhook/getWebhookInfo and delivery of updates by POST.

Modelled on Telegram's Bot API server (tdlib/telegram-bot-api, `Client::process_set_webhook_query`,
`Client::do_set_webhook` and `WebhookActor`):

- setWebhook with a URL is allowed once a second (else 429 "retry after 1"); asking again for the
  webhook already set changes nothing (allowed_updates aside). Any other change first removes the
  current webhook, so a refused setWebhook leaves none; drop_pending_updates is honoured even then.
- Checks, in Telegram's order: the URL parses ("invalid webhook URL specified"), the secret token
  is at most 256 of A-Z a-z 0-9 _ - , then allowed_updates is stored, then the webhook is
  "verified" ("bad webhook: ..."): HTTPS and ports 80/88/443/8443 (not in local mode), a fixed
  ip_address that parses, the host resolves, and (not in local mode) the address is IPv4 and not
  reserved (loopback, private, ...). Verification ends the waiting getUpdates, as Telegram does.
- Strict mode (default) is api.telegram.org; `local_mode = True` is a telegram-bot-api server run
  with --local: any scheme and port, any address, max_connections up to 100000.
- The emulator looks no name up and leaves this machine for nothing: its DNS knows IP literals,
  localhost, `hosts`, and that names under reserved TLDs (.invalid, .test, .example, .local ...)
  or without a dot do not exist; other names are some public address. Only loopback addresses are
  delivered to; a delivery anywhere else fails as "Connection timed out".
- Delivery is one update at a time in update_id order. A 2xx answer confirms the update (its JSON
  or form body may carry a Bot API call in "method", which is run, as Telegram does); anything else
  is recorded as last_error and retried: Telegram retries at once, then after 2, 4, 8 ... seconds
  up to 60-120 s, or after the answer's Retry-After; the emulator uses `retry_delays` (Telegram's
  schedule divided by 20) so that tests run fast. No redirects are followed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http
import ipaddress
import json
import os
import re
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from .component import Component
from .errors import ApiError, DroppedRequest, bad_request
from .params import Method, Params, bool_param, json_param, str_param

if TYPE_CHECKING:
    from .emulator import Emulator

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_MAX_CONNECTIONS = 40
MAX_CONNECTIONS = 100
MAX_CONNECTIONS_LOCAL = 100_000
MAX_SECRET_TOKEN = 256
ALLOWED_PORTS = frozenset({80, 88, 443, 8443})
# Telegram's own delays between attempts at one update (then 60-120 s at random).
TELEGRAM_RETRY_DELAYS = (0.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
MAX_RETRY_AFTER = 3600  # a Retry-After from the webhook is obeyed up to an hour
TELEGRAM_TIMEOUT = 60.0  # how long Telegram waits for the webhook's answer
OFFLINE_ERROR = "Connection timed out"

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_CHARS = re.compile(r"[A-Za-z0-9_-]*")
# Special-use and never-delegated top-level domains: no public resolver answers for them.
_UNRESOLVABLE_TLDS = frozenset(
    {"invalid", "test", "example", "local", "localdomain", "internal", "lan", "home", "corp"}
)
# Calls a webhook answer may not make (Telegram ignores them silently).
_NOT_FROM_REPLY = frozenset({"deletewebhook", "setwebhook", "close", "logout"})


def bad_webhook(detail: str) -> ApiError:
    """setWebhook refused at verification: "Bad Request: bad webhook: ..."."""
    return bad_request(f"bad webhook: {detail}")


@dataclass(frozen=True)
class WebhookUrl:
    """A webhook URL as Telegram's parser reads it (no scheme means https)."""

    scheme: str
    host: str  # brackets removed from IPv6 literals
    port: int
    target: str  # path and query, at least "/"
    userinfo: str = ""

    @property
    def host_header(self) -> str:
        """The Host header: the name, with the port unless it is the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse_webhook_url(url: str) -> WebhookUrl:
    """Read `url` or refuse it with Telegram's "invalid webhook URL specified"."""
    invalid = bad_request("invalid webhook URL specified")
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "https", url
    scheme = scheme.lower()
    if scheme not in ("http", "https"):
        raise invalid
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    userinfo, _, hostport = authority.rpartition("@")
    if hostport.startswith("["):
        host, bracket, after = hostport[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise invalid
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise invalid from None
        port_text = after[1:]
    else:
        host, _, port_text = hostport.partition(":")
        if not host or not all(c.isalnum() or c in "-._~" for c in host):
            raise invalid
    if not port_text:
        port = 443 if scheme == "https" else 80
    elif port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536:
        port = int(port_text)
    else:
        raise invalid
    target = tail.partition("#")[0]
    if not target.startswith("/"):
        target = "/" + target
    return WebhookUrl(scheme, host, port, target, userinfo)


@dataclass(frozen=True)
class _Settings:
    """What a setWebhook call asks for; equal settings leave the webhook alone."""

    url: str = ""
    max_connections: int = 0
    secret_token: str = ""
    ip_address: str = ""  # the fixed address, if one was given
    certificate: bytes | None = None


@dataclass
class _Outcome:
    """One POST: an error for getWebhookInfo, or the answer's Bot API call, if any."""

    error: str | None = None
    retry_after: float = 0.0
    reply: Params | None = None


class Webhook(Component):
    """The webhook the bot set, if any, and delivery of queued updates to it."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        # Knobs for tests (see the module docstring).
        self.local_mode = False
        self.retry_delays: tuple[float, ...] = tuple(d / 20 for d in TELEGRAM_RETRY_DELAYS)
        self.timeout = 3.0  # Telegram waits 60 s for an answer
        self.set_webhook_interval = 1.0  # Telegram allows one setWebhook with a URL a second
        self.hosts: dict[str, str] = {}  # extra names for the emulator's DNS
        # The webhook, as getWebhookInfo reports it.
        self._settings = _Settings()
        self.ip_address = ""
        self.last_error_date = 0
        self.last_error_message = ""
        self._target: WebhookUrl | None = None
        self._address: IPAddress | None = None
        # Delivery.
        self._last_set_at = -float("inf")
        self._generation = 0
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @property
    def url(self) -> str:
        """The webhook URL, "" when none is set."""
        return self._settings.url

    @property
    def active(self) -> bool:
        """True while a webhook is set (getUpdates is then refused)."""
        return bool(self._settings.url)

    @property
    def secret_token(self) -> str:
        """Sent in X-Telegram-Bot-Api-Secret-Token with every delivery ("" for none)."""
        return self._settings.secret_token

    @property
    def max_connections(self) -> int:
        """As set (1-100, default 40); 0 when no webhook is set. Delivery is sequential anyway."""
        return self._settings.max_connections

    @property
    def has_custom_certificate(self) -> bool:
        """Whether setWebhook uploaded a certificate (used as the CA for HTTPS deliveries)."""
        return self._settings.certificate is not None

    def methods(self) -> dict[str, Method]:
        return {
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
        }

    def on_update(self) -> None:
        """Called after an update is queued: wake delivery if a webhook is set."""
        if self.active and not self._closed:
            self._ensure_task()

    async def close(self) -> None:
        """Stop delivering and close the HTTP client (the webhook itself stays set)."""
        self._closed = True
        await self._stop_delivery()
        session, self._session = self._session, None
        if session is not None and not session.closed:
            if self._session_loop is asyncio.get_running_loop():
                await session.close()

    # ------------------------------------------------------------------ the emulator's DNS

    def resolve(self, host: str) -> IPAddress | None:
        """The address `host` has: None for a public name the emulator does not know; refused
        with "Failed to resolve host" for a name that cannot exist."""
        name = host.lower().rstrip(".")
        with contextlib.suppress(ValueError):
            return ipaddress.ip_address(name)
        if name in self.hosts:
            return ipaddress.ip_address(self.hosts[name])
        if name == "localhost" or name.endswith(".localhost"):
            return ipaddress.IPv4Address("127.0.0.1")
        if "." not in name or name.rsplit(".", 1)[1] in _UNRESOLVABLE_TLDS:
            raise bad_webhook("Failed to resolve host: Name or service not known")
        return None

    def _check_address(self, address: IPAddress) -> None:
        if self.local_mode:
            return
        if address.version != 4:
            raise bad_webhook("IPv6-only addresses are not allowed")
        if not address.is_global or address.is_multicast:
            raise bad_webhook(f"IP address {address} is reserved")

    # ------------------------------------------------------------------ the Bot API methods

    async def _set_webhook(self, params: Params) -> bool:
        return await self._change(str_param(params, "url") or "", params)

    async def _delete_webhook(self, params: Params) -> bool:
        return await self._change("", params)

    async def _change(self, url: str, params: Params) -> bool:
        now = time.monotonic()
        if url:
            if now < self._last_set_at + self.set_webhook_interval:
                raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            self._last_set_at = now
        drop = bool_param(params, "drop_pending_updates")
        settings = self._requested(url, params)
        if settings == self._settings and settings.certificate is None and not drop:
            self._store_allowed_updates(params)  # "Webhook is already set"
            return True
        await self._remove()
        if drop:
            await self.emulator.drop_pending_updates()
        if not url:
            return True
        target = parse_webhook_url(url)
        if len(settings.secret_token) > MAX_SECRET_TOKEN:
            raise bad_request("secret token is too long")
        if not _SECRET_CHARS.fullmatch(settings.secret_token):
            raise bad_request("secret token contains unallowed characters")
        self._store_allowed_updates(params)
        address = self._verify(target, settings.ip_address)
        self._settings, self._target, self._address = settings, target, address
        self.ip_address = "" if address is None else str(address)
        self._closed = False
        async with self.emulator._changed:  # a waiting getUpdates ends with a 409
            self.emulator._changed.notify_all()
        self._ensure_task()
        return True

    def _requested(self, url: str, params: Params) -> _Settings:
        if not url:
            return _Settings()
        return _Settings(
            url=url,
            max_connections=self._max_connections(params.get("max_connections")),
            secret_token=str_param(params, "secret_token") or "",
            ip_address=str_param(params, "ip_address") or "",
            certificate=_certificate(params),
        )

    def _max_connections(self, raw: object) -> int:
        """Telegram clamps max_connections into range instead of refusing it."""
        if raw is None or raw == "":
            value = DEFAULT_MAX_CONNECTIONS
        else:
            try:
                value = int(str(raw).strip())
            except ValueError:
                value = 0
        ceiling = MAX_CONNECTIONS_LOCAL if self.local_mode else MAX_CONNECTIONS
        return min(max(value, 1), ceiling)

    def _store_allowed_updates(self, params: Params) -> None:
        allowed = json_param(params, "allowed_updates")
        if allowed is not None:
            self.emulator.allowed_updates = list(allowed) or None

    def _verify(self, target: WebhookUrl, fixed_ip: str) -> IPAddress | None:
        """What Telegram checks before it answers setWebhook; the address to deliver to."""
        if not self.local_mode:
            if target.scheme != "https":
                raise bad_webhook("An HTTPS URL must be provided for webhook")
            if target.port not in ALLOWED_PORTS:
                raise bad_webhook("Webhook can be set up only on ports 80, 88, 443 or 8443")
        if fixed_ip:
            try:
                address: IPAddress | None = ipaddress.ip_address(fixed_ip)
            except ValueError:
                raise bad_webhook("Invalid IP address specified") from None
        else:
            address = self.resolve(target.host)
        if address is not None:
            self._check_address(address)
        return address

    async def _remove(self) -> None:
        """Close the current webhook, as Telegram does before any change."""
        await self._stop_delivery()
        self._settings = _Settings()
        self._target = self._address = None
        self.ip_address = ""
        self.last_error_date = 0
        self.last_error_message = ""

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": self.has_custom_certificate,
            "pending_update_count": self.emulator.pending_update_count,
        }
        if self.ip_address:
            info["ip_address"] = self.ip_address
        if self.last_error_date:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        if self.max_connections:
            info["max_connections"] = self.max_connections
        if self.emulator.allowed_updates is not None:
            info["allowed_updates"] = list(self.emulator.allowed_updates)
        return info

    # ------------------------------------------------------------------ delivery

    def _ensure_task(self) -> None:
        if self._task is not None and not self._task.done():
            if self._wake is not None:
                self._wake.set()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the next update or setWebhook starts delivery
        self._wake = asyncio.Event()
        self._task = loop.create_task(self._deliver(self._generation, self._wake))

    async def _stop_delivery(self) -> None:
        self._generation += 1
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        if task is not asyncio.current_task() and task.get_loop() is asyncio.get_running_loop():
            await asyncio.wait([task])

    def _delay(self, failures: int) -> float:
        if not self.retry_delays:
            return 0.0
        return self.retry_delays[min(failures, len(self.retry_delays) - 1)]

    async def _deliver(self, generation: int, wake: asyncio.Event) -> None:
        """POST the oldest pending update until it is confirmed, then the next, and so on."""
        loop = asyncio.get_running_loop()
        failing_id, failures, retry_at = 0, 0, 0.0
        while generation == self._generation:
            pending = self.emulator.take_pending_updates(1)
            if not pending:
                wake.clear()
                await wake.wait()
                continue
            update = pending[0]
            if update["update_id"] != failing_id:
                failing_id, failures, retry_at = update["update_id"], 0, 0.0
            wait = retry_at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            outcome = await self._post(update)
            if generation != self._generation:
                return
            if outcome.error is None:
                await self.emulator.confirm_updates(update["update_id"] + 1)
                if outcome.reply is not None:
                    await self._run_reply(outcome.reply)
                continue
            self.last_error_date = int(time.time())
            self.last_error_message = outcome.error
            retry_at = loop.time() + (outcome.retry_after or self._delay(failures))
            failures += 1

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(skip_auto_headers=("User-Agent",))
            self._session_loop = loop
        return self._session

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self._settings.certificate is not None:
            context.load_verify_locations(cadata=self._settings.certificate.decode("latin-1"))
        return context

    async def _post(self, update: dict[str, Any]) -> _Outcome:
        target, address = self._target, self._address
        if target is None or address is None or not address.is_loopback:
            return _Outcome(OFFLINE_ERROR)  # the emulator delivers to this machine only
        host = f"[{address}]" if address.version == 6 else str(address)
        headers = {
            "Host": target.host_header,
            "Content-Type": "application/json",
            "Accept-Encoding": "gzip, deflate",
        }
        if target.userinfo:
            credentials = base64.b64encode(target.userinfo.encode()).decode()
            headers["Authorization"] = f"Basic {credentials}"
        if self.secret_token:
            headers[SECRET_HEADER] = self.secret_token
        body = json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode()
        https = target.scheme == "https"
        try:
            async with self._client().post(
                f"{target.scheme}://{host}:{target.port}{target.target}",
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.timeout, sock_connect=self.timeout),
                ssl=self._ssl_context() if https else True,
                server_hostname=target.host if https else None,
            ) as response:
                if not 200 <= response.status <= 299:
                    reason = response.reason or _reason(response.status)
                    return _Outcome(
                        f"Wrong response from the webhook: {response.status} {reason}",
                        _retry_after(response.headers.get("Retry-After")),
                    )
                return _Outcome(reply=_reply_call(await response.read(), response.content_type))
        except (aiohttp.ClientSSLError, ssl.SSLError) as error:
            return _Outcome(f"SSL error {{{error}}}")
        except aiohttp.ConnectionTimeoutError:
            return _Outcome("Connection timed out")
        except TimeoutError:
            return _Outcome("Read timeout expired")
        except aiohttp.ClientConnectorError as error:
            return _Outcome(_os_error_message(error.os_error))
        except aiohttp.ServerDisconnectedError:
            return _Outcome("Webhook connection closed")
        except aiohttp.ClientError as error:
            return _Outcome(f"Wrong response from the webhook: {error}")

    async def _run_reply(self, reply: Params) -> None:
        """Run the Bot API call a webhook made in its answer (results are not returned)."""
        method = str(reply.pop("method", "")).lower()
        if not method or method in _NOT_FROM_REPLY or method.startswith("get"):
            return
        with contextlib.suppress(DroppedRequest):
            await self.emulator.call(self.emulator.token, method, reply)


def _certificate(params: Params) -> bytes | None:
    """The uploaded certificate file, if any (a plain string is not a certificate)."""
    value = params.get("certificate")
    if isinstance(value, str) and value.startswith("attach://"):
        value = params.get(value.removeprefix("attach://"))
    return value if isinstance(value, bytes) and value else None


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _retry_after(value: str | None) -> float:
    try:
        seconds = int(value or 0)
    except ValueError:
        return 0.0
    return float(min(max(seconds, 0), MAX_RETRY_AFTER))


def _os_error_message(error: OSError) -> str:
    """ "Connection refused" rather than asyncio's "Connect call failed (...)"."""
    if error.errno:
        return os.strerror(error.errno)
    return str(error) or "Connection refused"


def _reply_call(body: bytes, content_type: str) -> Params | None:
    """A Bot API call carried in a webhook's 2xx answer, as JSON or as a form."""
    params: Any = None
    if content_type == "application/json":
        with contextlib.suppress(ValueError):
            params = json.loads(body)
    elif content_type == "application/x-www-form-urlencoded":
        params = dict(urllib.parse.parse_qsl(body.decode("utf-8", errors="replace")))
    if isinstance(params, dict) and params.get("method"):
        return params
    return None
