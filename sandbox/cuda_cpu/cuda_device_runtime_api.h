// paralift CUDA-on-CPU stub: everything lives in paralift_cuda.h
#pragma once
#include "paralift_cuda.h"
