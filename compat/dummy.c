/* Keeps libcompat.a non-empty when the libc has every function. */
int compat_dummy;
