/* The stand-in SDK header of sdk-good without the aarch64 padding (the
 * x86-64 layout): the layout check must refuse it. */
#pragma once
#define TEST_SDK_UNPADDED
#include "../../sdk-good/include/ax_engine_api.h"
