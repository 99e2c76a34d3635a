#pragma once
//! \file The entries of the experiment-kind table, one per file of this folder.

#include "experiments/experiment_kind.h"

namespace tvk::kinds {

//! `kind: synthetic` (the default): Monte Carlo sweeps of score models.
ExperimentKind synthetic_kind();
//! `kind: logit_store`: real attention rows of a logit store, per layer and head.
ExperimentKind logit_store_kind();
//! `kind: certified`: certified searches that score only some keys.
ExperimentKind certified_kind();

}  // namespace tvk::kinds
