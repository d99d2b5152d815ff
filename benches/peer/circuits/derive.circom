pragma circom 2.1.0;
include "consentry.circom";
component main = Derive(20);
