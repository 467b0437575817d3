/*
 * pb_err.h - the one error enum of Pillarbox.
 *
 * Every function that can fail returns int: a negative PB_E* value on
 * failure, zero or a count on success.  Errors of lwIP (err_t) and wolfSSL
 * are translated into these at the boundary where those libraries are
 * called.  It lives at the bottom (hal/) so every layer can use it; it
 * includes nothing.
 */
#ifndef PB_ERR_H
#define PB_ERR_H

enum pb_err {
    PB_OK = 0,
    PB_EIO = -1,        /* the device or the peer failed an I/O */
    PB_EINVAL = -2,     /* an argument is out of range or misaligned */
    PB_ENOMEM = -3,     /* a pool or arena is exhausted: answer "busy" */
    PB_ENOSPC = -4,     /* the medium is full */
    PB_ENOENT = -5,     /* no such object */
    PB_EEXIST = -6,     /* the object exists already */
    PB_EAGAIN = -7,     /* nothing to do now; try again after the next event */
    PB_EBUSY = -8,      /* the resource is in use */
    PB_ECORRUPT = -9,   /* data failed its check (CRC, format) */
    PB_ENOTSUP = -10,   /* not supported by this board or build */
    PB_ETIMEDOUT = -11, /* a bounded wait ran out */
    PB_ECONN = -12,     /* the connection was reset or closed */
    PB_ETLS = -13,      /* TLS handshake or record failure */
    PB_EPERM = -14,     /* not allowed (e.g. programming a 0 bit back to 1) */
    PB_ERANGE = -15,    /* a value does not fit */
};

/* A short English phrase for an error code, for logs and console replies. */
static inline const char *pb_err_str(int err)
{
    switch (err) {
    case PB_OK: return "ok";
    case PB_EIO: return "I/O error";
    case PB_EINVAL: return "invalid argument";
    case PB_ENOMEM: return "out of memory";
    case PB_ENOSPC: return "no space left";
    case PB_ENOENT: return "not found";
    case PB_EEXIST: return "already exists";
    case PB_EAGAIN: return "try again";
    case PB_EBUSY: return "busy";
    case PB_ECORRUPT: return "data corrupt";
    case PB_ENOTSUP: return "not supported";
    case PB_ETIMEDOUT: return "timed out";
    case PB_ECONN: return "connection closed";
    case PB_ETLS: return "TLS failure";
    case PB_EPERM: return "not permitted";
    case PB_ERANGE: return "out of range";
    default: return "unknown error";
    }
}

#endif
