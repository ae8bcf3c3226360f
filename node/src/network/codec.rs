//! [`SyncCodec`]: the wire format of the block-sync request-response protocol. A request and
//! a response are each one opaque byte string, sent as one frame (4-byte big-endian length,
//! then the bytes) on its own stream; the node defines what the bytes mean. Reads are
//! bounded: a peer that claims or sends more than the limit, or stops short, gets its stream
//! failed, never a large allocation or a panic.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response::Codec;
use libp2p::StreamProtocol;
use std::io;

/// Length-limited opaque bytes both ways.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SyncCodec {
    /// Largest request read or written.
    pub(crate) max_request_bytes: usize,
    /// Largest response read or written.
    pub(crate) max_response_bytes: usize,
}

/// Reads one frame: a 4-byte big-endian length, then that many bytes. A stream that ends
/// early is an error, so a peer that drops a request unanswered is never mistaken for an
/// empty answer. Memory grows with the bytes actually received, not with the claimed length.
async fn read_bounded<T>(io: &mut T, max: usize, what: &str) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len);
    if usize::try_from(len).map_or(true, |len| len > max) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} of {len} bytes exceeds the limit of {max} bytes"),
        ));
    }
    let mut buf = Vec::new();
    io.take(u64::from(len)).read_to_end(&mut buf).await?;
    if buf.len() as u64 != u64::from(len) {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{what} ended after {} of {len} bytes", buf.len()),
        ));
    }
    Ok(buf)
}

/// Writes one frame (length, then `data`), refusing more than `max` bytes.
async fn write_bounded<T>(io: &mut T, data: &[u8], max: usize, what: &str) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
    let len = u32::try_from(data.len())
        .ok()
        .filter(|_| data.len() <= max)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{what} of {} bytes exceeds the limit of {max} bytes",
                    data.len()
                ),
            )
        })?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(data).await?;
    io.flush().await
}

impl Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_bounded(io, self.max_request_bytes, "request").await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_bounded(io, self.max_response_bytes, "response").await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_bounded(io, &req, self.max_request_bytes, "request").await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_bounded(io, &res, self.max_response_bytes, "response").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::io::Cursor;

    fn codec() -> SyncCodec {
        SyncCodec {
            max_request_bytes: 8,
            max_response_bytes: 16,
        }
    }

    fn frame(len: u32, body: &[u8]) -> Cursor<Vec<u8>> {
        let mut v = len.to_be_bytes().to_vec();
        v.extend_from_slice(body);
        Cursor::new(v)
    }

    #[tokio::test]
    async fn round_trips_up_to_the_limit() {
        let p = StreamProtocol::new("/t/1");
        let mut c = codec();
        let mut out = Cursor::new(Vec::new());
        c.write_request(&p, &mut out, vec![1; 8]).await.unwrap();
        out.set_position(0);
        assert_eq!(c.read_request(&p, &mut out).await.unwrap(), vec![1; 8]);
        let mut out = Cursor::new(Vec::new());
        c.write_response(&p, &mut out, Vec::new()).await.unwrap();
        out.set_position(0);
        assert_eq!(
            c.read_response(&p, &mut out).await.unwrap(),
            Vec::<u8>::new()
        );
    }

    #[tokio::test]
    async fn refuses_oversized_truncated_and_missing_frames() {
        let p = StreamProtocol::new("/t/1");
        let mut c = codec();
        let kind = |r: io::Result<Vec<u8>>| r.unwrap_err().kind();
        // Claims more than the limit (nothing allocated for it).
        assert_eq!(
            kind(c.read_request(&p, &mut frame(u32::MAX, b"")).await),
            io::ErrorKind::InvalidData
        );
        assert_eq!(
            kind(c.read_request(&p, &mut frame(9, &[0; 9])).await),
            io::ErrorKind::InvalidData
        );
        // Stops short of its length.
        assert_eq!(
            kind(c.read_response(&p, &mut frame(10, &[0; 3])).await),
            io::ErrorKind::UnexpectedEof
        );
        // No frame at all: a dropped answer, not an empty one.
        assert_eq!(
            kind(c.read_response(&p, &mut Cursor::new(Vec::new())).await),
            io::ErrorKind::UnexpectedEof
        );
        assert_eq!(
            kind(c.read_response(&p, &mut Cursor::new(vec![0, 0])).await),
            io::ErrorKind::UnexpectedEof
        );
    }

    #[tokio::test]
    async fn refuses_to_write_oversized() {
        let p = StreamProtocol::new("/t/1");
        let mut c = codec();
        let mut out = Cursor::new(Vec::new());
        assert!(c.write_request(&p, &mut out, vec![0; 9]).await.is_err());
        assert!(out.get_ref().is_empty());
    }
}
