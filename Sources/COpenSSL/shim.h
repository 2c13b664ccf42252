#ifndef SECIRC_COPENSSL_SHIM_H
#define SECIRC_COPENSSL_SHIM_H
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* BIO_get_mem_data is a function-like macro; Swift cannot call it. */
static inline long secirc_bio_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

/* EVP_PKEY_Q_keygen is variadic; this makes a P-256 key without it. NULL on failure. */
static inline EVP_PKEY *secirc_generate_p256(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); }
/* MBSTRING_ASC is a composite macro. */
static inline int secirc_mbstring_asc(void) { return MBSTRING_ASC; }
#endif
