"""Which new passwords are refused: too short, holding the username, or easy to guess.

"Easy to guess" is zxcvbn's estimate (Dropbox's algorithm, MIT licence), which checks the
password against its bundled lists of the most common passwords (about 30,000, from
leaked password sets), English words and names, and the username, with case, l33t
substitutions, repeats, sequences and keyboard walks undone: ``aaaaaaaaaaaa``,
``password1234`` and ``P@ssw0rd1234`` are refused; a few unrelated words are not.
"""

from __future__ import annotations

from threading import Lock

from zxcvbn import zxcvbn

from issuer.core.refusal import Refusal

MIN_LENGTH = 12
MIN_SCORE = 3
"""zxcvbn's score 3: more than 10^8 guesses (safe against online guessing and a slow
hash offline); 0-2 are common or patterned passwords."""
MAX_LENGTH = 128
"""ASVS 2.1.2: at least 64 characters allowed, more than 128 refused."""
CHECKED_LENGTH = 72
"""zxcvbn looks at this many characters; a longer password is judged by its start."""
_ZXCVBN = Lock()  # zxcvbn keeps the user inputs of the current call in a module global


def password_problem(password: str, username: str = "") -> Refusal | None:
    """Why `password` may not be set for `username`, or None if it may."""
    if len(password) < MIN_LENGTH:
        return Refusal("a password needs at least %(n)s characters", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return Refusal("a password may have at most %(n)s characters", n=MAX_LENGTH)
    name = username.strip().lower()
    if name and name in password.lower():
        return Refusal("a password must not contain the username")
    inputs = [name] if name else []
    with _ZXCVBN:
        score = zxcvbn(password[:CHECKED_LENGTH], user_inputs=inputs)["score"]
    if score < MIN_SCORE:
        return Refusal("this password is too common or too easy to guess: use a few "
                       "unrelated words, or a password manager's random one")
    return None
