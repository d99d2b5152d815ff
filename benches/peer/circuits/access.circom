pragma circom 2.1.0;
include "consentry.circom";
component main {public [root, scope, pseudonym, message, role, issuer_id, min_level, today]} = Access(20);
