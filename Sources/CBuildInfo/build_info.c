// C rather than Swift because C23's #embed reads a file at compile time, and the compiler
// records it as a dependency, so editing VERSION rebuilds this file.
#include "CBuildInfo.h"

#pragma clang diagnostic ignored "-Wc23-extensions"
static const char version[] = {
#embed "../../VERSION"
    , 0
};

const char *dnsb_build_version(void) { return version; }
