"""The outbound senders against fake Twilio and Telegram APIs on loopback (nothing patched).

Each fake runs once per module in a uvicorn thread; every test starts it in "ok" mode with an
empty request log. Sends run in ``asyncio.run``: each test builds its own sender, so PTB's
httpx client never outlives its event loop.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from api.channels import DeliveryError, OutboundMessage, TelegramSender, TwilioSender
from tests.fakes.http_server import RunningServer, closed_port, serve_asgi
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

T = TypeVar("T")
TwilioServer = tuple[FakeTwilio, RunningServer]
TelegramServer = tuple[FakeTelegram, RunningServer]

# PTB 22.x warns inside RetryAfter.__init__ that retry_after will become a timedelta; the
# sender handles both forms (see telegram_sender._retry_after_seconds).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

ACCOUNT_SID = "AC" + "1f" * 16
AUTH_TOKEN = "a3c5e7f9b1d3a5c7e9f1b3d5a7c9e1f3"
FROM_NUMBER = "+4570121314"
BOT_TOKEN = "7012345678:AAFakeTokenForTests_abcdefghijklmno"
CLIENT_TIMEOUT_S = 0.5
SLOW_PROVIDER_S = 3.0
# A timed-out send must give up near CLIENT_TIMEOUT_S, far below SLOW_PROVIDER_S.
TIMEOUT_BOUND_S = 2.0
WEBHOOK_URL = "https://frikort.example.dk/webhooks/telegram"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def twilio_server() -> Iterator[TwilioServer]:
    fake = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, slow_delay_s=SLOW_PROVIDER_S)
    with serve_asgi(fake.app) as server:
        yield fake, server
        fake.release()


@pytest.fixture
def twilio(twilio_server: TwilioServer) -> FakeTwilio:
    fake, _ = twilio_server
    fake.fail("ok")
    fake.log.clear()
    return fake


@pytest.fixture
def twilio_sender(twilio: FakeTwilio, twilio_server: TwilioServer) -> TwilioSender:
    url = twilio_server[1].url
    return TwilioSender(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, url, timeout_s=CLIENT_TIMEOUT_S)


@pytest.fixture(scope="module")
def telegram_server() -> Iterator[TelegramServer]:
    fake = FakeTelegram(token=BOT_TOKEN, slow_delay_s=SLOW_PROVIDER_S)
    with serve_asgi(fake.app) as server:
        yield fake, server
        fake.release()


@pytest.fixture
def telegram(telegram_server: TelegramServer) -> FakeTelegram:
    fake, _ = telegram_server
    fake.fail("ok")
    fake.log.clear()
    return fake


@pytest.fixture
def telegram_url(telegram: FakeTelegram, telegram_server: TelegramServer) -> str:
    return telegram_server[1].url


def sms(text: str = "Hej! Din saldo er 1.200,00 kr. Du kan tjene 19.432,00 kr. mere i år.",
        to: str = "+4520123456", buttons: tuple[str, ...] = ()) -> OutboundMessage:
    return OutboundMessage(channel="sms", to=to, text=text, buttons=buttons)


def tg(text: str = "Du indberetter 600,00 kr. Svar JA for at bekræfte",
       to: str = "123456789", buttons: tuple[str, ...] = ()) -> OutboundMessage:
    return OutboundMessage(channel="telegram", to=to, text=text, buttons=buttons)


def delivery_error(send: Callable[[], Coroutine[Any, Any, Any]]) -> tuple[DeliveryError, float]:
    """Runs ``send``, expects a DeliveryError, and returns it with the elapsed seconds."""
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        run(send())
    return caught.value, time.monotonic() - started


def quick_telegram_sender(url: str, token: str = BOT_TOKEN) -> TelegramSender:
    return TelegramSender(token, url, timeout_s=CLIENT_TIMEOUT_S)


async def telegram_send(url: str, message: OutboundMessage, token: str = BOT_TOKEN) -> str:
    async with quick_telegram_sender(url, token) as sender:
        return await sender.send(message)


# --- Twilio ---------------------------------------------------------------------------------


class TestTwilioSender:
    def test_sends_to_from_and_body_and_returns_the_sid(
        self, twilio: FakeTwilio, twilio_sender: TwilioSender
    ) -> None:
        message = sms("Hej Åse! Din løn på 600,00 kr. er indberettet. Skriv SALDO for at se mere.")

        sid = run(twilio_sender.send(message))

        assert re.fullmatch(r"SM[0-9a-f]{32}", sid)
        assert twilio.messages() == [
            {"To": "+4520123456", "From": FROM_NUMBER, "Body": message.text}
        ]
        (request,) = twilio.requests
        assert request.method == "POST"
        assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        expected_auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        assert request.headers["authorization"] == f"Basic {expected_auth}"
        assert request.answered_with == "ok"

    def test_buttons_are_not_sent_over_sms(
        self, twilio: FakeTwilio, twilio_sender: TwilioSender
    ) -> None:
        run(twilio_sender.send(sms("Svar JA eller NEJ", buttons=("JA", "NEJ"))))

        assert twilio.messages() == [
            {"To": "+4520123456", "From": FROM_NUMBER, "Body": "Svar JA eller NEJ"}
        ]

    def test_each_send_gets_its_own_sid_even_when_concurrent(
        self, twilio: FakeTwilio, twilio_sender: TwilioSender
    ) -> None:
        async def send_five() -> list[str]:
            return list(await asyncio.gather(
                *(twilio_sender.send(sms(f"besked {i}")) for i in range(5))
            ))

        sids = run(send_five())

        assert len(set(sids)) == 5
        assert sorted(m["Body"] for m in twilio.messages()) == [f"besked {i}" for i in range(5)]

    def test_server_error_is_transient(
        self, twilio: FakeTwilio, twilio_sender: TwilioSender
    ) -> None:
        twilio.fail("error_500")

        error, _ = delivery_error(lambda: twilio_sender.send(sms()))

        assert error.transient is True
        assert error.retry_after is None
        assert error.code == "20500"

    def test_rate_limit_is_transient_with_retry_after(
        self, twilio: FakeTwilio, twilio_sender: TwilioSender
    ) -> None:
        twilio.fail("rate_limited")

        error, _ = delivery_error(lambda: twilio_sender.send(sms()))

        assert error.transient is True
        assert error.retry_after == 7.0
        assert error.code == "20429"

    @pytest.mark.parametrize(("mode", "code"), [("permanent", "21211"), ("unsubscribed", "21610")])
    def test_refused_recipient_is_permanent(
        self, twilio: FakeTwilio, twilio_sender: TwilioSender, mode: Any, code: str
    ) -> None:
        twilio.fail(mode)

        error, _ = delivery_error(lambda: twilio_sender.send(sms()))

        assert error.transient is False
        assert error.code == code
        assert error.retry_after is None

    def test_wrong_auth_token_is_permanent(
        self, twilio: FakeTwilio, twilio_server: TwilioServer
    ) -> None:
        sender = TwilioSender(ACCOUNT_SID, "wrong-token", FROM_NUMBER, twilio_server[1].url,
                              timeout_s=CLIENT_TIMEOUT_S)

        error, _ = delivery_error(lambda: sender.send(sms()))

        assert error.transient is False
        assert error.code == "20003"
        assert [r.answered_with for r in twilio.requests] == ["unauthorized"]

    def test_slow_provider_times_out_within_the_bound(
        self, twilio: FakeTwilio, twilio_sender: TwilioSender
    ) -> None:
        twilio.fail("timeout", times=1)

        error, elapsed = delivery_error(lambda: twilio_sender.send(sms()))

        assert error.transient is True
        assert CLIENT_TIMEOUT_S * 0.8 <= elapsed < TIMEOUT_BOUND_S
        assert [r.answered_with for r in twilio.requests] == ["timeout"]

    def test_unreachable_provider_is_transient(self) -> None:
        sender = TwilioSender(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER,
                              f"http://127.0.0.1:{closed_port()}", timeout_s=CLIENT_TIMEOUT_S)

        error, elapsed = delivery_error(lambda: sender.send(sms()))

        assert error.transient is True
        assert elapsed < TIMEOUT_BOUND_S

    def test_fails_the_next_two_then_delivers(
        self, twilio: FakeTwilio, twilio_sender: TwilioSender
    ) -> None:
        twilio.fail("error_500", times=2)
        outcomes: list[str] = []
        for _ in range(3):
            try:
                outcomes.append(run(twilio_sender.send(sms("tredje gang er lykkens gang"))))
            except DeliveryError as error:
                assert error.transient
                outcomes.append("transient")

        assert outcomes[:2] == ["transient", "transient"]
        assert outcomes[2].startswith("SM")
        assert [r.answered_with for r in twilio.requests] == ["error_500", "error_500", "ok"]

    def test_refuses_a_telegram_message(
        self, twilio: FakeTwilio, twilio_sender: TwilioSender
    ) -> None:
        with pytest.raises(ValueError):
            run(twilio_sender.send(tg()))
        assert twilio.requests == []


# --- Telegram -------------------------------------------------------------------------------


class TestTelegramSender:
    def test_sends_chat_id_and_text_and_returns_the_message_id(
        self, telegram: FakeTelegram, telegram_url: str
    ) -> None:
        message = tg("Hej Åse! Din saldo: 1.200,00 kr. tjent, 19.432,00 kr. tilbage i år.")

        first = run(telegram_send(telegram_url, message))
        second = run(telegram_send(telegram_url, message))

        assert first.isdigit() and second.isdigit() and int(second) > int(first)
        sent = telegram.calls("sendMessage")
        assert sent == [{"chat_id": "123456789", "text": message.text}] * 2
        paths = [r.path for r in telegram.requests]
        # Bot.initialize() checks the token with getMe, then sends; the token sits after /bot.
        assert paths == ["/bot<token>/getMe", "/bot<token>/sendMessage"] * 2

    def test_short_buttons_become_one_row_of_inline_buttons(
        self, telegram: FakeTelegram, telegram_url: str
    ) -> None:
        run(telegram_send(telegram_url, tg(buttons=("JA", "NEJ"))))

        (params,) = telegram.calls("sendMessage")
        assert params["reply_markup"] == {
            "inline_keyboard": [[
                {"text": "JA", "callback_data": "JA"},
                {"text": "NEJ", "callback_data": "NEJ"},
            ]]
        }

    def test_menu_buttons_get_a_row_each(self, telegram: FakeTelegram, telegram_url: str) -> None:
        menu = ("Hvad er et frikort?", "Min saldo", "Tal med et menneske", "Indberet løn")

        run(telegram_send(telegram_url, tg("Hvad kan jeg hjælpe med?", buttons=menu)))

        (params,) = telegram.calls("sendMessage")
        assert params["reply_markup"] == {
            "inline_keyboard": [[{"text": b, "callback_data": b}] for b in menu]
        }

    def test_send_initializes_on_first_use_and_shutdown_closes(
        self, telegram: FakeTelegram, telegram_url: str
    ) -> None:
        async def scenario() -> list[str]:
            sender = TelegramSender(BOT_TOKEN, telegram_url, timeout_s=CLIENT_TIMEOUT_S)
            ids = [await sender.send(tg("en")), await sender.send(tg("to"))]
            await sender.shutdown()
            await sender.shutdown()  # twice is harmless
            return ids

        ids = run(scenario())

        assert len(set(ids)) == 2
        assert [r.path.rsplit("/", 1)[1] for r in telegram.requests] == [
            "getMe", "sendMessage", "sendMessage"
        ]

    @pytest.mark.parametrize(
        ("mode", "transient", "retry_after", "code", "says"),
        [
            ("error_500", True, None, "network", "Internal Server Error"),
            ("rate_limited", True, 5.0, "429", "retry in 5"),
            ("permanent", False, None, "400", "chat not found"),
            ("blocked", False, None, "403", "bot was blocked by the user"),
        ],
    )
    def test_errors_are_classified(
        self, telegram: FakeTelegram, telegram_url: str, mode: Any, transient: bool,
        retry_after: float | None, code: str, says: str,
    ) -> None:
        telegram.fail(mode)

        error, _ = delivery_error(lambda: telegram_send(telegram_url, tg()))

        assert error.transient is transient
        assert error.retry_after == retry_after
        assert error.code == code
        assert says.lower() in str(error).lower()  # PTB drops "Bad Request: " and capitalises
        assert [r.answered_with for r in telegram.requests] == ["ok", mode]  # getMe, sendMessage

    def test_slow_provider_times_out_within_the_bound(
        self, telegram: FakeTelegram, telegram_url: str
    ) -> None:
        async def scenario() -> tuple[DeliveryError, float]:
            async with quick_telegram_sender(telegram_url) as sender:
                telegram.fail("timeout", times=1)
                started = time.monotonic()
                with pytest.raises(DeliveryError) as caught:
                    await sender.send(tg())
                return caught.value, time.monotonic() - started

        error, elapsed = run(scenario())

        assert error.transient is True
        assert error.code == "timeout"
        assert CLIENT_TIMEOUT_S * 0.8 <= elapsed < TIMEOUT_BOUND_S

    def test_unreachable_provider_is_transient(self) -> None:
        url = f"http://127.0.0.1:{closed_port()}"

        error, elapsed = delivery_error(lambda: telegram_send(url, tg()))

        assert error.transient is True
        assert elapsed < TIMEOUT_BOUND_S

    def test_wrong_token_is_permanent_and_not_echoed(
        self, telegram: FakeTelegram, telegram_url: str
    ) -> None:
        wrong = "7012345678:AAWrongTokenNeverToBeLogged_xyz"

        error, _ = delivery_error(lambda: telegram_send(telegram_url, tg(), token=wrong))

        assert error.transient is False
        assert error.code == "401"
        assert wrong not in str(error) and wrong not in repr(error)
        assert error.__cause__ is None
        assert telegram.calls("sendMessage") == []

    def test_token_revoked_while_running_is_permanent_and_not_echoed(
        self, telegram: FakeTelegram, telegram_url: str
    ) -> None:
        async def scenario() -> DeliveryError:
            async with quick_telegram_sender(telegram_url) as sender:
                await sender.send(tg("før"))
                telegram.token = "7012345678:AARotatedByBotFather_zyxwvutsrqponm"
                try:
                    with pytest.raises(DeliveryError) as caught:
                        await sender.send(tg("efter"))
                finally:
                    telegram.token = BOT_TOKEN
                return caught.value

        error = run(scenario())

        assert (error.transient, error.code) == (False, "401")
        assert BOT_TOKEN not in str(error) and error.__cause__ is None

    def test_fails_the_next_two_then_delivers(
        self, telegram: FakeTelegram, telegram_url: str
    ) -> None:
        telegram.fail("rate_limited", times=2)

        async def outbox_like() -> list[str]:
            outcomes: list[str] = []
            async with quick_telegram_sender(telegram_url) as sender:
                for _ in range(3):
                    try:
                        outcomes.append(await sender.send(tg("prøv igen")))
                    except DeliveryError as error:
                        assert error.transient and error.retry_after == 5.0
                        outcomes.append("later")
            return outcomes

        outcomes = run(outbox_like())

        assert outcomes[:2] == ["later", "later"] and outcomes[2].isdigit()
        assert [r.answered_with for r in telegram.requests] == [
            "ok", "rate_limited", "rate_limited", "ok"
        ]

    def test_oversized_button_is_refused_without_calling_telegram(
        self, telegram: FakeTelegram, telegram_url: str
    ) -> None:
        button = "Jeg vil gerne tale med en sagsbehandler om mit frikort og min løn"  # > 64 bytes

        error, _ = delivery_error(lambda: telegram_send(telegram_url, tg(buttons=(button,))))

        assert error.transient is False
        assert error.code == "button_data"
        assert telegram.calls("sendMessage") == []

    def test_set_and_delete_webhook(self, telegram: FakeTelegram, telegram_url: str) -> None:
        async def scenario() -> dict[str, Any]:
            async with TelegramSender(BOT_TOKEN, telegram_url) as sender:
                await sender.set_webhook(WEBHOOK_URL, "s3cr3t_-X")
                registered = dict(telegram.webhook)
                await sender.delete_webhook()
                return registered

        registered = run(scenario())

        assert registered["url"] == WEBHOOK_URL
        assert registered["secret_token"] == "s3cr3t_-X"
        assert registered["allowed_updates"] == ["message", "callback_query"]
        assert telegram.webhook == {}

    def test_plain_http_webhook_is_refused_permanently(
        self, telegram: FakeTelegram, telegram_url: str
    ) -> None:
        async def scenario() -> None:
            async with TelegramSender(BOT_TOKEN, telegram_url) as sender:
                await sender.set_webhook("http://frikort.example.dk/webhooks/telegram", "s3cr3t")

        error, _ = delivery_error(scenario)

        assert error.transient is False
        assert "https url must be provided" in str(error).lower()

    def test_answer_callback(self, telegram: FakeTelegram, telegram_url: str) -> None:
        async def scenario() -> None:
            async with TelegramSender(BOT_TOKEN, telegram_url) as sender:
                await sender.answer_callback("4382bfdwdsb323b2d9")

        run(scenario())

        assert telegram.calls("answerCallbackQuery") == [
            {"callback_query_id": "4382bfdwdsb323b2d9"}
        ]

    def test_refuses_an_sms_message(self, telegram: FakeTelegram, telegram_url: str) -> None:
        with pytest.raises(ValueError):
            run(telegram_send(telegram_url, sms()))
        assert telegram.calls("sendMessage") == []


def test_delivery_error_repr_shows_classification() -> None:
    error = DeliveryError("nope", transient=True, retry_after=2.5, code="429")
    assert json.dumps([error.transient, error.retry_after, error.code]) == '[true, 2.5, "429"]'
    assert "transient=True" in repr(error)
