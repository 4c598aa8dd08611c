#ifndef DNSBRIDGE_CYAML_SHIM_H
#define DNSBRIDGE_CYAML_SHIM_H
#include <yaml.h>
#endif
