/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small json-c helpers for the tools' reports (snap_repair, the trust
 * report): members that are figures or optional strings. */
#ifndef SNAPRESCUE_JSONOUT_H
#define SNAPRESCUE_JSONOUT_H

#include <stdint.h>

#include <json-c/json.h>

/* @o[@key] = @v, as an unsigned 64-bit number. */
void json_add_u64(json_object *o, const char *key, uint64_t v);
/* @o[@key] = @v, or null when @v is NULL. */
void json_add_str(json_object *o, const char *key, const char *v);

#endif
