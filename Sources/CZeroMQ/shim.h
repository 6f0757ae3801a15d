#ifndef PEERD_CZEROMQ_SHIM_H
#define PEERD_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
