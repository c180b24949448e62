"""A token's subject becomes an indexed actor: it is bounded when minted and when verified."""

import time

import jwt
import pytest
from typer.testing import CliRunner

from api.auth import MAX_SUBJECT, TokenIssuer
from api.cli import cli
from api.settings import Settings
from domain.errors import Unauthenticated
from tests.conftest import TEST_SECRET


def issuer() -> TokenIssuer:
    return TokenIssuer(TEST_SECRET, Settings(jwt_secret=TEST_SECRET))


def test_the_cli_refuses_to_mint_a_token_whose_subject_is_too_long():
    env = {"CHRONICLE_JWT_SECRET": TEST_SECRET}

    result = CliRunner().invoke(cli, ["admin", "token", "--subject", "a" * 3000], env=env)

    assert result.exit_code != 0
    assert f"a token's subject is 1 to {MAX_SUBJECT} characters" in result.output
    assert "eyJ" not in result.output


def test_a_subject_of_the_longest_length_is_minted_and_verified():
    token = issuer().issue("a" * MAX_SUBJECT, "admin")

    assert issuer().verify(token).actor == "admin:" + "a" * MAX_SUBJECT


def test_a_signed_token_whose_subject_is_too_long_is_refused_saying_why():
    claims = {"sub": "a" * 3000, "role": "admin", "exp": int(time.time()) + 60}
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")

    with pytest.raises(Unauthenticated, match=f"longer than {MAX_SUBJECT} characters"):
        issuer().verify(token)
