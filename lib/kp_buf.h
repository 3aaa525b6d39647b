/* kp_buf.h -- growable byte buffer and bounds-checked reader */
#ifndef KP_BUF_H
#define KP_BUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * A growable buffer for encoding. Errors are sticky: after a failed
 * allocation every put is a no-op and err stays set, so an encoder checks
 * once at the end instead of after every field.
 */
struct kp_buf {
	uint8_t	*data;
	size_t	 len;
	size_t	 cap;
	int	 err;		/* 0, ENOMEM, or EOVERFLOW (kp_wire) */
};

void	 kp_buf_init(struct kp_buf *);
void	 kp_buf_release(struct kp_buf *);
void	 kp_buf_reset(struct kp_buf *);
int	 kp_buf_reserve(struct kp_buf *, size_t);
/* Room for n more bytes, counted in len; borrowed until the next growth. */
uint8_t	*kp_buf_extend(struct kp_buf *, size_t);
void	 kp_buf_put(struct kp_buf *, const void *, size_t);
/* Drop n bytes from the front (a consumed input frame, say). */
void	 kp_buf_consume(struct kp_buf *, size_t);
/* Hand the bytes to the caller, who frees them; the buffer is emptied. */
uint8_t	*kp_buf_steal(struct kp_buf *, size_t *);

void	 kp_buf_put_i8(struct kp_buf *, int8_t);
void	 kp_buf_put_i16(struct kp_buf *, int16_t);
void	 kp_buf_put_i32(struct kp_buf *, int32_t);
void	 kp_buf_put_i64(struct kp_buf *, int64_t);
void	 kp_buf_put_u32(struct kp_buf *, uint32_t);
/* Overwrite four bytes already written (length and CRC fields). */
void	 kp_buf_set_i32(struct kp_buf *, size_t, int32_t);

/* Big-endian loads and stores on raw memory. */
int16_t	 kp_be16(const uint8_t *);
int32_t	 kp_be32(const uint8_t *);
int64_t	 kp_be64(const uint8_t *);
void	 kp_put_be16(uint8_t *, int16_t);
void	 kp_put_be32(uint8_t *, int32_t);
void	 kp_put_be64(uint8_t *, int64_t);

/*
 * A bounds-checked reader over borrowed bytes. The first error sticks:
 * KP_ESHORT when the input ended early (more bytes may fix it), KP_EBAD
 * when the bytes can never be valid. Reads after an error return zeroes.
 */
enum { KP_OK = 0, KP_ESHORT = 1, KP_EBAD = 2 };

struct kp_reader {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	int		 err;
};

void		 kp_reader_init(struct kp_reader *, const void *, size_t);
size_t		 kp_reader_left(const struct kp_reader *);
/* Set the error unless one is already set; returns the error in force. */
int		 kp_reader_fail(struct kp_reader *, int);
/* A borrowed view of the next n bytes, or NULL (and KP_ESHORT). */
const uint8_t	*kp_reader_take(struct kp_reader *, size_t);

int8_t		 kp_read_i8(struct kp_reader *);
int16_t		 kp_read_i16(struct kp_reader *);
int32_t		 kp_read_i32(struct kp_reader *);
int64_t		 kp_read_i64(struct kp_reader *);
uint32_t	 kp_read_u32(struct kp_reader *);

#endif
