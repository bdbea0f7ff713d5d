//! Which addresses a notification may not reach unless the operator allows it: anything
//! that is not the public internet (loopback, private ranges, link-local such as the cloud
//! metadata service at 169.254.169.254, carrier-grade NAT, unspecified, multicast and
//! broadcast, IPv6 unique-local and link-local, and IPv4 written inside IPv6).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub fn is_private(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(address: Ipv4Addr) -> bool {
    let [first, second, ..] = address.octets();
    address.is_loopback()
        || address.is_private()
        || address.is_link_local()
        || address.is_unspecified()
        || address.is_broadcast()
        || address.is_multicast()
        || address.is_documentation()
        || first == 0
        || (first == 100 && (64..128).contains(&second))
        || (first == 198 && (18..20).contains(&second))
        || first >= 240
}

fn is_private_v6(address: Ipv6Addr) -> bool {
    if let Some(v4) = address.to_ipv4_mapped() {
        return is_private_v4(v4);
    }
    let first_segment = address.segments()[0];
    address.is_loopback()
        || address.is_unspecified()
        || address.is_multicast()
        || (first_segment & 0xfe00) == 0xfc00
        || (first_segment & 0xffc0) == 0xfe80
        // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96) embed IPv4.
        || address.segments()[..6] == [0; 6]
        || address.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
        || first_segment == 0x2001 && address.segments()[1] == 0x0db8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_private_and_public_ones_are_not() {
        let private = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ];
        for text in private {
            assert!(is_private(text.parse().unwrap()), "{text} is private");
        }
        let public = [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ];
        for text in public {
            assert!(!is_private(text.parse().unwrap()), "{text} is public");
        }
    }
}
