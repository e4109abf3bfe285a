/*
 * authsvc.h - what every httpd-facing unit of mod_authsvc includes.
 *
 * It declares the module record and opts every file into per-module log levels
 * (APLOG_USE_MODULE), so `LogLevel authsvc:debug` works in every file that includes it.
 * Pure units (password, text, policy, crypto, json, migrate) must not include it.
 */
#ifndef AUTHSVC_H
#define AUTHSVC_H

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

extern module AP_MODULE_DECLARE_DATA authsvc_module;
APLOG_USE_MODULE(authsvc);

/* The handler names this module answers to (SetHandler). */
#define AUTHSVC_HANDLER        "authsvc"
#define AUTHSVC_HANDLER_HEALTH "authsvc-health"

/* Seconds since the epoch, the unit of every timestamp the module stores. */
#define AUTHSVC_NOW() ((apr_int64_t)apr_time_sec(apr_time_now()))

#endif
