-- 0009_passkeys down (PostgreSQL): drop the passkeys and their challenges.

DROP TABLE webauthn_challenges;

DROP TABLE passkeys;
