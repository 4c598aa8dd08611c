// Facts fixed at build time.
#ifndef CBUILDINFO_H
#define CBUILDINFO_H

/// The VERSION file at the package root as it was when built (its newline included).
const char *dnsb_build_version(void);

#endif
