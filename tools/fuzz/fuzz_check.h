// FUZZ_CHECK: a property a fuzz target asserts on every input; a failure
// aborts with the condition, which libFuzzer reports with the input.
//
//   FUZZ_CHECK(back == row, "a row read back differs");
#pragma once

#include "engine/check.h"

#define FUZZ_CHECK(condition, message) DM_CHECK_MSG(condition, message)
