//! A small reader for the GGUF container: header, metadata and tensor table.
//!
//! llama.cpp reports a damaged file as a bare null pointer (the reason only
//! goes to its log), so the cache reads the structure itself first. That gives
//! a clear error for a file that is not GGUF, that is cut short, or whose
//! tensors point past its end; and it yields the metadata the chat template
//! needs (`tokenizer.chat_template`, the BOS/EOS token texts, the architecture)
//! without loading any weights.

use crate::LocalError;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// The four bytes every GGUF file starts with.
pub const MAGIC: &[u8; 4] = b"GGUF";
/// GGUF versions llama.cpp still reads (version 1 was dropped long ago).
pub const SUPPORTED_VERSIONS: [u32; 2] = [2, 3];

/// Bounds that no sane file exceeds; past them the header is garbage, and
/// trusting the counts would mean allocating gigabytes.
const MAX_STRING: u64 = 64 << 20;
const MAX_ARRAY: u64 = 1 << 28;
const MAX_COUNT: u64 = 1 << 24;
const MAX_DIMS: u32 = 8;
const DEFAULT_ALIGNMENT: u64 = 32;

/// A scalar or string metadata value. Arrays are skipped except the token
/// list (see [`GgufInfo::tokens`]), which keeps reading a model cheap.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    Uint(u64),
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    /// An array whose elements were not kept: its element type id and length.
    Array {
        elem_type: u32,
        len: u64,
    },
}

impl MetaValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            MetaValue::Uint(v) => Some(v),
            MetaValue::Int(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }
}

/// What the header of a GGUF file says.
#[derive(Debug, Clone)]
pub struct GgufInfo {
    pub path: PathBuf,
    pub version: u32,
    pub tensor_count: u64,
    pub metadata: BTreeMap<String, MetaValue>,
    /// `tokenizer.ggml.tokens`, when asked for.
    pub tokens: Option<Vec<String>>,
    /// Where the tensor data must end at least, from the tensor table. For a
    /// tensor type this reader does not know the size of, only its start is
    /// counted, so this is a lower bound.
    pub min_file_size: u64,
    pub file_size: u64,
}

impl GgufInfo {
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(MetaValue::as_str)
    }

    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.metadata.get(key).and_then(MetaValue::as_u64)
    }

    /// `general.architecture`, e.g. `llama`, `gemma2`.
    pub fn architecture(&self) -> Option<&str> {
        self.get_str("general.architecture")
    }

    /// The text of a token id, if the token list was read.
    pub fn token_text(&self, id: u64) -> Option<&str> {
        let tokens = self.tokens.as_ref()?;
        tokens.get(usize::try_from(id).ok()?).map(String::as_str)
    }
}

/// Reads only the first eight bytes: magic and version. Cheap enough for every
/// resolve of a cached model, whose size is checked separately.
pub fn check_header(path: &Path) -> Result<u32, LocalError> {
    let file = File::open(path).map_err(|e| open_error(path, e))?;
    let mut r = Reader::new(path, file);
    read_preamble(&mut r)
}

/// Reads the whole header (metadata and tensor table) and checks that the file
/// is long enough for the tensors it declares. `keep_tokens` also keeps the
/// token list, which the chat template needs for `bos_token`/`eos_token`.
pub fn inspect(path: &Path, keep_tokens: bool) -> Result<GgufInfo, LocalError> {
    let file = File::open(path).map_err(|e| open_error(path, e))?;
    let file_size = file
        .metadata()
        .map_err(|e| LocalError::io("cannot stat", path, e))?
        .len();
    let mut r = Reader::new(path, file);
    let version = read_preamble(&mut r)?;
    let tensor_count = r.u64("the tensor count")?;
    let kv_count = r.u64("the metadata count")?;
    if tensor_count > MAX_COUNT || kv_count > MAX_COUNT {
        return Err(r.corrupt(format!(
            "header declares {tensor_count} tensors and {kv_count} metadata entries"
        )));
    }

    let mut metadata = BTreeMap::new();
    let mut tokens = None;
    for _ in 0..kv_count {
        let key = r.string("a metadata key")?;
        let ty = r.u32("a metadata type")?;
        if ty == TYPE_ARRAY {
            let elem_type = r.u32("an array type")?;
            let len = r.u64("an array length")?;
            if len > MAX_ARRAY {
                return Err(r.corrupt(format!("metadata array `{key}` declares {len} elements")));
            }
            if keep_tokens && key == "tokenizer.ggml.tokens" && elem_type == TYPE_STRING {
                let mut list = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    list.push(r.string("a token")?);
                }
                tokens = Some(list);
            } else {
                for _ in 0..len {
                    r.skip_value(elem_type, &key)?;
                }
            }
            metadata.insert(key, MetaValue::Array { elem_type, len });
        } else {
            let value = r.value(ty, &key)?;
            metadata.insert(key, value);
        }
    }

    let alignment = match metadata
        .get("general.alignment")
        .and_then(MetaValue::as_u64)
    {
        Some(a) if a > 0 && a.is_power_of_two() => a,
        Some(a) => return Err(r.corrupt(format!("general.alignment is {a}, not a power of two"))),
        None => DEFAULT_ALIGNMENT,
    };

    // Tensor table: name, dims, type, offset (relative to the data section).
    let mut data_end = 0u64;
    for _ in 0..tensor_count {
        let name = r.string("a tensor name")?;
        let n_dims = r.u32("a tensor rank")?;
        if n_dims > MAX_DIMS {
            return Err(r.corrupt(format!("tensor `{name}` has {n_dims} dimensions")));
        }
        let mut elements = 1u64;
        for _ in 0..n_dims {
            let d = r.u64("a tensor dimension")?;
            elements = elements.saturating_mul(d);
        }
        let ty = r.u32("a tensor type")?;
        let offset = r.u64("a tensor offset")?;
        if offset % alignment != 0 {
            return Err(r.corrupt(format!(
                "tensor `{name}` starts at unaligned offset {offset}"
            )));
        }
        let bytes = tensor_bytes(ty, elements).unwrap_or(0);
        data_end = data_end.max(offset.saturating_add(bytes));
    }
    let data_start = r.pos.div_ceil(alignment) * alignment;
    let min_file_size = data_start.saturating_add(data_end);
    if file_size < min_file_size {
        return Err(LocalError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "the tensors need at least {min_file_size} bytes but the file has {file_size} (an interrupted download or copy?)"
            ),
            remedy: "fetch or copy the file again".into(),
        });
    }

    Ok(GgufInfo {
        path: path.to_path_buf(),
        version,
        tensor_count,
        metadata,
        tokens,
        min_file_size,
        file_size,
    })
}

/// Bytes of a tensor of `elements` elements of ggml type `ty`, from ggml's
/// block sizes (`ggml/src/ggml.c`, `type_traits`). `None` for types this
/// reader does not know; the caller then only checks where the tensor starts.
fn tensor_bytes(ty: u32, elements: u64) -> Option<u64> {
    const QK_K: u64 = 256;
    let (block, size) = match ty {
        0 => (1, 4),      // F32
        1 => (1, 2),      // F16
        2 => (32, 18),    // Q4_0
        3 => (32, 20),    // Q4_1
        6 => (32, 22),    // Q5_0
        7 => (32, 24),    // Q5_1
        8 => (32, 34),    // Q8_0
        9 => (32, 36),    // Q8_1
        10 => (QK_K, 84), // Q2_K
        11 => (QK_K, 110),
        12 => (QK_K, 144),
        13 => (QK_K, 176),
        14 => (QK_K, 210),
        15 => (QK_K, 292), // Q8_K
        16 => (QK_K, 66),  // IQ2_XXS
        17 => (QK_K, 74),
        18 => (QK_K, 98),
        19 => (QK_K, 50),
        20 => (32, 18), // IQ4_NL
        21 => (QK_K, 110),
        22 => (QK_K, 82),
        23 => (QK_K, 136), // IQ4_XS
        24 => (1, 1),      // I8
        25 => (1, 2),
        26 => (1, 4),
        27 => (1, 8),
        28 => (1, 8), // F64
        29 => (QK_K, 56),
        30 => (1, 2), // BF16
        34 => (QK_K, 54),
        35 => (QK_K, 66),
        39 => (32, 17), // MXFP4
        _ => return None,
    };
    Some(elements.div_ceil(block).saturating_mul(size))
}

const TYPE_STRING: u32 = 8;
const TYPE_ARRAY: u32 = 9;

fn open_error(path: &Path, e: std::io::Error) -> LocalError {
    if e.kind() == std::io::ErrorKind::NotFound {
        LocalError::FileNotFound {
            path: path.to_path_buf(),
        }
    } else {
        LocalError::io("cannot open", path, e)
    }
}

fn read_preamble(r: &mut Reader) -> Result<u32, LocalError> {
    let mut magic = [0u8; 4];
    r.bytes(&mut magic, "the magic number")
        .map_err(|_| LocalError::NotGguf {
            path: r.path.to_path_buf(),
            reason: "the file is shorter than a GGUF header".into(),
        })?;
    if &magic != MAGIC {
        return Err(LocalError::NotGguf {
            path: r.path.to_path_buf(),
            reason: format!("it starts with {magic:02x?}, not the GGUF magic \"GGUF\""),
        });
    }
    let version = r.u32("the version")?;
    if !SUPPORTED_VERSIONS.contains(&version) {
        return Err(LocalError::NotGguf {
            path: r.path.to_path_buf(),
            reason: format!("GGUF version {version} is not supported (supported: 2, 3)"),
        });
    }
    Ok(version)
}

struct Reader<'a> {
    path: &'a Path,
    inner: BufReader<File>,
    pos: u64,
}

impl<'a> Reader<'a> {
    fn new(path: &'a Path, file: File) -> Self {
        Reader {
            path,
            inner: BufReader::with_capacity(1 << 16, file),
            pos: 0,
        }
    }

    fn corrupt(&self, reason: String) -> LocalError {
        LocalError::Corrupt {
            path: self.path.to_path_buf(),
            reason: format!("{reason} (at byte {})", self.pos),
            remedy: "fetch or copy the file again".into(),
        }
    }

    fn bytes(&mut self, buf: &mut [u8], what: &str) -> Result<(), LocalError> {
        match self.inner.read_exact(buf) {
            Ok(()) => {
                self.pos += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(LocalError::Corrupt {
                path: self.path.to_path_buf(),
                reason: format!(
                    "the file ends at byte {} inside the header, while reading {what}",
                    self.pos
                ),
                remedy: "fetch or copy the file again (an interrupted download or copy?)".into(),
            }),
            Err(e) => Err(LocalError::io("cannot read", self.path, e)),
        }
    }

    fn u32(&mut self, what: &str) -> Result<u32, LocalError> {
        let mut b = [0u8; 4];
        self.bytes(&mut b, what)?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self, what: &str) -> Result<u64, LocalError> {
        let mut b = [0u8; 8];
        self.bytes(&mut b, what)?;
        Ok(u64::from_le_bytes(b))
    }

    fn string(&mut self, what: &str) -> Result<String, LocalError> {
        let len = self.u64(what)?;
        if len > MAX_STRING {
            return Err(self.corrupt(format!("{what} declares a length of {len} bytes")));
        }
        let mut buf = vec![0u8; len as usize];
        self.bytes(&mut buf, what)?;
        // Token texts of byte-level vocabularies are not always valid UTF-8.
        Ok(String::from_utf8(buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), LocalError> {
        let copied = std::io::copy(&mut (&mut self.inner).take(n), &mut std::io::sink())
            .map_err(|e| LocalError::io("cannot read", self.path, e))?;
        self.pos += copied;
        if copied < n {
            return Err(LocalError::Corrupt {
                path: self.path.to_path_buf(),
                reason: format!(
                    "the file ends at byte {} inside the header, while reading {what}",
                    self.pos
                ),
                remedy: "fetch or copy the file again (an interrupted download or copy?)".into(),
            });
        }
        Ok(())
    }

    fn value(&mut self, ty: u32, key: &str) -> Result<MetaValue, LocalError> {
        let mut b = [0u8; 8];
        Ok(match ty {
            0 => {
                self.bytes(&mut b[..1], key)?;
                MetaValue::Uint(u64::from(b[0]))
            }
            1 => {
                self.bytes(&mut b[..1], key)?;
                MetaValue::Int(i64::from(b[0] as i8))
            }
            2 => {
                self.bytes(&mut b[..2], key)?;
                MetaValue::Uint(u64::from(u16::from_le_bytes([b[0], b[1]])))
            }
            3 => {
                self.bytes(&mut b[..2], key)?;
                MetaValue::Int(i64::from(i16::from_le_bytes([b[0], b[1]])))
            }
            4 => MetaValue::Uint(u64::from(self.u32(key)?)),
            5 => MetaValue::Int(i64::from(self.u32(key)? as i32)),
            6 => MetaValue::Float(f64::from(f32::from_bits(self.u32(key)?))),
            7 => {
                self.bytes(&mut b[..1], key)?;
                MetaValue::Bool(b[0] != 0)
            }
            TYPE_STRING => MetaValue::Str(self.string(key)?),
            10 => MetaValue::Uint(self.u64(key)?),
            11 => MetaValue::Int(self.u64(key)? as i64),
            12 => MetaValue::Float(f64::from_bits(self.u64(key)?)),
            other => return Err(self.corrupt(format!("metadata `{key}` has unknown type {other}"))),
        })
    }

    fn skip_value(&mut self, ty: u32, key: &str) -> Result<(), LocalError> {
        let n = match ty {
            0 | 1 | 7 => 1,
            2 | 3 => 2,
            4..=6 => 4,
            10..=12 => 8,
            TYPE_STRING => {
                let len = self.u64(key)?;
                if len > MAX_STRING {
                    return Err(self.corrupt(format!("a string in `{key}` declares {len} bytes")));
                }
                len
            }
            other => {
                return Err(self.corrupt(format!(
                    "array `{key}` has unsupported element type {other}"
                )))
            }
        };
        self.skip(n, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn put_str(out: &mut Vec<u8>, s: &str) {
        out.extend((s.len() as u64).to_le_bytes());
        out.extend(s.as_bytes());
    }

    /// A tiny but complete GGUF: two metadata entries, a token array and one
    /// F32 tensor of 8 elements.
    fn tiny_gguf(truncate_data: bool) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(MAGIC);
        out.extend(3u32.to_le_bytes());
        out.extend(1u64.to_le_bytes()); // tensors
        out.extend(3u64.to_le_bytes()); // kv
        put_str(&mut out, "general.architecture");
        out.extend(TYPE_STRING.to_le_bytes());
        put_str(&mut out, "llama");
        put_str(&mut out, "tokenizer.ggml.bos_token_id");
        out.extend(4u32.to_le_bytes());
        out.extend(1u32.to_le_bytes());
        put_str(&mut out, "tokenizer.ggml.tokens");
        out.extend(TYPE_ARRAY.to_le_bytes());
        out.extend(TYPE_STRING.to_le_bytes());
        out.extend(2u64.to_le_bytes());
        put_str(&mut out, "<eos>");
        put_str(&mut out, "<bos>");
        put_str(&mut out, "w");
        out.extend(1u32.to_le_bytes());
        out.extend(8u64.to_le_bytes());
        out.extend(0u32.to_le_bytes()); // F32
        out.extend(0u64.to_le_bytes());
        while out.len() % 32 != 0 {
            out.push(0);
        }
        let data = if truncate_data { 16 } else { 32 };
        out.extend(std::iter::repeat_n(0u8, data));
        out
    }

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn reads_metadata_and_tokens() {
        let f = write(&tiny_gguf(false));
        let info = inspect(f.path(), true).unwrap();
        assert_eq!(info.version, 3);
        assert_eq!(info.architecture(), Some("llama"));
        assert_eq!(info.get_u64("tokenizer.ggml.bos_token_id"), Some(1));
        assert_eq!(info.token_text(1), Some("<bos>"));
        assert_eq!(info.min_file_size, info.file_size);
    }

    #[test]
    fn short_tensor_data_is_reported_as_truncated() {
        let f = write(&tiny_gguf(true));
        let err = inspect(f.path(), false).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
        assert!(err.contains("need at least"), "{err}");
    }

    #[test]
    fn a_cut_header_is_reported_with_its_offset() {
        let bytes = tiny_gguf(false);
        let f = write(&bytes[..40]);
        let err = inspect(f.path(), false).unwrap_err().to_string();
        assert!(err.contains("ends at byte"), "{err}");
    }

    #[test]
    fn wrong_magic_and_version_are_not_gguf() {
        let f = write(b"{\"not\": \"a model\"}");
        assert!(matches!(
            check_header(f.path()),
            Err(LocalError::NotGguf { .. })
        ));
        let mut bytes = tiny_gguf(false);
        bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
        let f = write(&bytes);
        let err = check_header(f.path()).unwrap_err().to_string();
        assert!(err.contains("version 1 is not supported"), "{err}");
        let f = write(b"GG");
        assert!(matches!(
            check_header(f.path()),
            Err(LocalError::NotGguf { .. })
        ));
    }
}
