#ifndef SECIRC_CSODIUM_SHIM_H
#define SECIRC_CSODIUM_SHIM_H
#include <sodium.h>
#endif
