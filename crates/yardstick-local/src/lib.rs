//! In-process GGUF inference with llama.cpp: the local provider and model cache
