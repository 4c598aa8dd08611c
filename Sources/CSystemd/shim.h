#ifndef DNSBRIDGE_CSYSTEMD_SHIM_H
#define DNSBRIDGE_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#endif
