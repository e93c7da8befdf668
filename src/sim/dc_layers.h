/* dc_layers.h: the table of constructor definitions of older layers (dc_layers.c). */
#ifndef DM_SIM_DC_LAYERS_H
#define DM_SIM_DC_LAYERS_H

#include "core/common.h"

struct dc_layer_def {
    int layer;      /* the definition is valid in this layer (and, as an approximation, below it) */
    const char *tl; /* "name#id field:type ... = Type", boxed objects typed by any name */
};

extern const struct dc_layer_def dc_layer_defs[];
extern const size_t dc_layer_ndefs;

#endif
