//! Deterministic generation of the seeded world: the same configuration gives the same world.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDate, TimeDelta};
use fastrand::Rng;

use crate::features;
use crate::model::{
    Address, Business, CpcMetrics, FeePeriod, NO_END, PacingMethod, PauseStatus, Program,
    ProgramStatus, ProgramType, UNSUPPORTED_CATEGORIES, available_features, logo_upgrade_info,
};

/// A new opaque id: 16 random bytes as 22 URL-safe base64 characters, like Yelp's ids.
pub(crate) fn new_id(rng: &mut Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `date` moved by `days`, saturating at the ends of the calendar.
pub(crate) fn shift(date: NaiveDate, days: i64) -> NaiveDate {
    TimeDelta::try_days(days)
        .and_then(|delta| date.checked_add_signed(delta))
        .unwrap_or(if days < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

/// A kind of business: its categories (the first is the main one) and the nouns of its names.
struct Trade {
    categories: &'static [&'static str],
    nouns: &'static [&'static str],
}

const TRADES: &[Trade] = &[
    Trade {
        categories: &[
            "plumbing",
            "waterheaterinstallrepair",
            "contractors",
            "handyman",
        ],
        nouns: &["Plumbing", "Plumbing & Drain", "Rooter", "Pipe Works"],
    },
    Trade {
        categories: &["electricians", "solarinstallation", "contractors"],
        nouns: &[
            "Electric",
            "Electrical Services",
            "Wiring Co.",
            "Power & Light",
        ],
    },
    Trade {
        categories: &["hvac", "contractors", "waterheaterinstallrepair"],
        nouns: &[
            "Heating & Air",
            "HVAC",
            "Comfort Systems",
            "Air Conditioning",
        ],
    },
    Trade {
        categories: &["roofing", "gutterservices", "contractors"],
        nouns: &["Roofing", "Roof Repair", "Roofing & Gutters"],
    },
    Trade {
        categories: &["restaurants", "pizza", "italian"],
        nouns: &["Pizzeria", "Pizza Kitchen", "Trattoria"],
    },
    Trade {
        categories: &["restaurants", "mexican"],
        nouns: &["Taqueria", "Cantina", "Mexican Grill"],
    },
    Trade {
        categories: &["restaurants", "sushi", "chinese"],
        nouns: &["Sushi Bar", "Noodle House", "Dumpling House"],
    },
    Trade {
        categories: &[
            "dentists",
            "generaldentistry",
            "cosmetic_dentists",
            "orthodontists",
        ],
        nouns: &["Dental", "Family Dentistry", "Smile Studio", "Orthodontics"],
    },
    Trade {
        categories: &["autorepair", "bodyshops", "oilchange", "tires"],
        nouns: &[
            "Auto Repair",
            "Auto Care",
            "Collision Center",
            "Tire & Brake",
        ],
    },
    Trade {
        categories: &["movers", "selfstorage"],
        nouns: &["Moving", "Movers", "Moving & Storage"],
    },
    Trade {
        categories: &["landscaping", "gardeners", "treeservices"],
        nouns: &["Landscaping", "Lawn & Garden", "Tree Service"],
    },
    Trade {
        categories: &["contractors", "painters", "flooring", "handyman"],
        nouns: &["Builders", "Construction", "Remodeling", "Painting"],
    },
    Trade {
        categories: &["hair", "barbers"],
        nouns: &["Hair Studio", "Salon", "Barbershop"],
    },
    Trade {
        categories: &["nailsalons", "skincare"],
        nouns: &["Nail Spa", "Nails & Beauty", "Nail Lounge"],
    },
    Trade {
        categories: &["chiropractors", "physicaltherapy", "massage"],
        nouns: &["Chiropractic", "Spine & Wellness", "Physical Therapy"],
    },
    Trade {
        categories: &["lawyers", "personal_injury", "divorce", "criminaldefense"],
        nouns: &["Law Group", "Law Offices", "Legal", "Attorneys"],
    },
    Trade {
        categories: &["realestateagents", "realestatesvcs", "propertymgmt"],
        nouns: &["Realty", "Real Estate", "Properties", "Homes"],
    },
    Trade {
        categories: &["homecleaning", "carpet_cleaning", "pest_control"],
        nouns: &["Cleaning", "Maids", "Pest Control", "Carpet Care"],
    },
    Trade {
        categories: &["locksmiths", "garage_door_services", "windowsinstallation"],
        nouns: &["Lock & Key", "Garage Doors", "Windows & Doors"],
    },
];

const PLACES: &[&str] = &[
    "Mesa",
    "Golden Gate",
    "Sunset",
    "Bay Area",
    "Mission",
    "Redwood",
    "Summit",
    "Pacific",
    "Evergreen",
    "Lakeside",
    "Oak Valley",
    "Main Street",
    "Desert",
    "Harbor",
    "Cedar",
    "Liberty",
    "Riverside",
    "Blue Sky",
    "Peak",
    "Canyon",
    "Hillcrest",
    "Northside",
    "Old Town",
    "Coastal",
    "Silver State",
    "Lone Star",
    "Prairie",
    "Granite",
    "Maple",
    "Cypress",
];

const SUFFIXES: &[&str] = &[
    "", "", "", " Co.", " Pros", " & Sons", " Inc", " Group", " LLC",
];

/// Weights of the program types in the seeded account, in percent.
const TYPE_WEIGHTS: &[(ProgramType, u32)] = &[
    (ProgramType::Cpc, 45),
    (ProgramType::Ep, 15),
    (ProgramType::Bp, 8),
    (ProgramType::Cta, 7),
    (ProgramType::Rca, 5),
    (ProgramType::Slideshow, 5),
    (ProgramType::Bh, 4),
    (ProgramType::Vl, 4),
    (ProgramType::Logo, 4),
    (ProgramType::Portfolio, 3),
];

/// Where a generated program stands relative to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    /// ACTIVE, started in the past.
    Running,
    /// INACTIVE, end date in the past.
    Ended,
    /// INACTIVE, start date in the future.
    Scheduled,
    /// ACTIVE + PAUSED (CPC only).
    Paused,
}

/// The businesses of the seeded account.
pub(crate) fn businesses(rng: &mut Rng, count: usize) -> Vec<Business> {
    let mut list: Vec<Business> = (0..count)
        .map(|index| {
            let trade = &TRADES[rng.usize(..TRADES.len())];
            let mut categories = vec![trade.categories[0].to_owned()];
            for _ in 0..rng.usize(0..=2) {
                let extra = trade.categories[rng.usize(..trade.categories.len())];
                if !categories.iter().any(|c| c == extra) {
                    categories.push(extra.to_owned());
                }
            }
            let name = format!(
                "{} {}{}",
                PLACES[rng.usize(..PLACES.len())],
                trade.nouns[rng.usize(..trade.nouns.len())],
                SUFFIXES[rng.usize(..SUFFIXES.len())]
            );
            let partner_business_id = if rng.f64() < 0.35 {
                None
            } else {
                Some(format!("PB-{:05}", index + 1))
            };
            Business {
                yelp_business_id: new_id(rng),
                name,
                address: Address::default(),
                categories,
                held_back: false,
                // Closed or removed from search; which of the two is drawn in `profiles`.
                is_closed: rng.f64() < 0.03,
                is_removed_from_search: false,
                migrated_to: None,
                partner_business_id,
            }
        })
        .collect();
    // A couple of listings sit in a category that cannot be advertised, and at least one business
    // is inactive, so that every receipt error of contract §5.4 can be produced from seed data.
    if count >= 10 {
        let first = rng.usize(..count);
        let mut second = rng.usize(..count);
        if second == first {
            second = (first + 1) % count;
        }
        for (index, alias) in [
            (first, UNSUPPORTED_CATEGORIES[0]),
            (second, UNSUPPORTED_CATEGORIES[1]),
        ] {
            list[index].categories.push(alias.to_owned());
            list[index].is_closed = false;
        }
        if list.iter().all(Business::is_active) {
            let mut index = rng.usize(..count);
            if index == first || index == second {
                index = (first.max(second) + 1) % count;
            }
            list[index].is_closed = true;
        }
    }
    list
}

/// Where the seeded businesses are: a city, its state and the range of its ZIP codes.
const CITIES: &[(&str, &str, u32, u32)] = &[
    ("San Francisco", "CA", 94102, 94134),
    ("Oakland", "CA", 94601, 94621),
    ("San Jose", "CA", 95110, 95139),
    ("Los Angeles", "CA", 90001, 90089),
    ("San Diego", "CA", 92101, 92139),
    ("Sacramento", "CA", 95811, 95838),
    ("Phoenix", "AZ", 85003, 85054),
    ("Mesa", "AZ", 85201, 85215),
    ("Tucson", "AZ", 85701, 85750),
    ("Las Vegas", "NV", 89101, 89149),
    ("Reno", "NV", 89501, 89523),
    ("Austin", "TX", 78701, 78759),
    ("Dallas", "TX", 75201, 75254),
    ("Houston", "TX", 77002, 77099),
    ("San Antonio", "TX", 78201, 78260),
    ("Denver", "CO", 80202, 80239),
    ("Seattle", "WA", 98101, 98199),
    ("Portland", "OR", 97201, 97236),
    ("Salt Lake City", "UT", 84101, 84124),
    ("Chicago", "IL", 60601, 60661),
    ("New York", "NY", 10001, 10040),
    ("Brooklyn", "NY", 11201, 11239),
    ("Boston", "MA", 2108, 2136),
    ("Miami", "FL", 33125, 33199),
    ("Orlando", "FL", 32801, 32839),
    ("Atlanta", "GA", 30303, 30350),
    ("Nashville", "TN", 37201, 37221),
    ("Minneapolis", "MN", 55401, 55419),
    ("Philadelphia", "PA", 19102, 19154),
    ("Charlotte", "NC", 28202, 28277),
];

const STREETS: &[&str] = &[
    "Main St",
    "Market St",
    "Mission St",
    "Broadway",
    "Oak Ave",
    "Maple Ave",
    "Elm St",
    "Pine St",
    "Cedar Ln",
    "Park Blvd",
    "Washington Ave",
    "Lincoln Way",
    "Sunset Blvd",
    "1st Ave",
    "2nd St",
    "3rd St",
    "Lake Dr",
    "Hill Rd",
    "Valley Rd",
    "Center St",
    "Church St",
    "Highland Ave",
    "Jefferson St",
    "Madison Ave",
];

/// Seed of the stream that draws addresses and business statuses, beside the world's own. A stream of their
/// own lets them be added without moving any earlier draw: every seeded id and program stays as it was.
const PROFILE_SEED_OFFSET: u64 = 0x5DEE_CE66_D1CE_4E5B;

/// A plausible US street address.
fn address(rng: &mut Rng) -> Address {
    let (city, state, zip_low, zip_high) = CITIES[rng.usize(..CITIES.len())];
    let address2 = match rng.u32(..10) {
        0 => Some(format!("Suite {}", rng.u32(100..=999))),
        1 => Some(format!("Unit {}", rng.u32(1..=40))),
        _ => None,
    };
    Address {
        address1: format!(
            "{} {}",
            rng.u32(1..=9999),
            STREETS[rng.usize(..STREETS.len())]
        ),
        address2,
        city: city.to_owned(),
        state: state.to_owned(),
        zip_code: format!("{:05}", rng.u32(zip_low..=zip_high)),
        country: "US".to_owned(),
    }
}

/// Gives every business an address, makes a third of the inactive ones removed from search rather than
/// closed, and (in an account of 10 or more) migrates one active business to another.
fn profiles(rng: &mut Rng, businesses: &mut [Business]) {
    for business in businesses.iter_mut() {
        business.address = address(rng);
        if business.is_closed && rng.u32(..3) == 0 {
            business.is_closed = false;
            business.is_removed_from_search = true;
        }
    }
    if businesses.len() >= 10 {
        let active: Vec<usize> = (0..businesses.len())
            .filter(|&i| businesses[i].is_active())
            .collect();
        if let Some(&from) = active.get(rng.usize(..active.len().max(1))) {
            let to = (from + 1 + rng.usize(..businesses.len() - 1)) % businesses.len();
            businesses[from].migrated_to = Some(businesses[to].yelp_business_id.clone());
        }
    }
}

/// A program type drawn with [`TYPE_WEIGHTS`].
pub(crate) fn program_type(rng: &mut Rng) -> ProgramType {
    let total: u32 = TYPE_WEIGHTS.iter().map(|(_, w)| w).sum();
    let mut roll = rng.u32(..total);
    for (program_type, weight) in TYPE_WEIGHTS {
        if roll < *weight {
            return *program_type;
        }
        roll -= weight;
    }
    ProgramType::Cpc
}

/// A lifecycle drawn so that about 75% run, 10% ended, 8% are scheduled and 7% are paused CPC.
fn lifecycle(rng: &mut Rng, program_type: ProgramType) -> Lifecycle {
    // Pausing exists for CPC only: CPC programs are paused with 7/45 so that 7% of all are.
    if program_type == ProgramType::Cpc && rng.f64() < 7.0 / 45.0 {
        return Lifecycle::Paused;
    }
    match rng.u32(..93) {
        0..75 => Lifecycle::Running,
        75..85 => Lifecycle::Ended,
        _ => Lifecycle::Scheduled,
    }
}

/// One generated program of `business`.
pub(crate) fn program(
    rng: &mut Rng,
    business: &Business,
    program_type: ProgramType,
    lifecycle: Lifecycle,
    today: NaiveDate,
) -> Program {
    let (status, pause, start_date, end_date) = match lifecycle {
        Lifecycle::Running | Lifecycle::Paused => {
            let start = shift(today, -rng.i64(0..=730));
            let end = if rng.f64() < 0.8 {
                NO_END
            } else {
                shift(today, rng.i64(1..=365))
            };
            let pause = if lifecycle == Lifecycle::Paused {
                PauseStatus::Paused
            } else {
                PauseStatus::NotPaused
            };
            (ProgramStatus::Active, pause, start, end)
        }
        Lifecycle::Ended => {
            let end = shift(today, -rng.i64(1..=365));
            let start = shift(end, -rng.i64(7..=730));
            (ProgramStatus::Inactive, PauseStatus::NotPaused, start, end)
        }
        Lifecycle::Scheduled => {
            let start = shift(today, rng.i64(1..=90));
            let end = if rng.f64() < 0.7 {
                NO_END
            } else {
                shift(start, rng.i64(30..=365))
            };
            (ProgramStatus::Inactive, PauseStatus::NotPaused, start, end)
        }
    };

    let available = available_features(program_type).to_vec();
    let activation = if available.len() == 1 { 0.85 } else { 0.4 };
    // Deprecated types are skipped before the dice, so the rest of the world is drawn as before they existed.
    let active: Vec<_> = available
        .iter()
        .copied()
        .filter(|ft| !ft.is_deprecated())
        .filter(|_| rng.f64() < activation)
        .collect();
    let feature_settings: BTreeMap<_, _> = active
        .iter()
        .filter_map(|&ft| features::seeded_settings(rng, ft).map(|s| (ft, s)))
        .collect();

    let is_cpc = program_type == ProgramType::Cpc;
    let (ad_campaign_id, program_metrics, ad_categories, pacing_method) = if is_cpc {
        let spent = lifecycle != Lifecycle::Scheduled;
        let metrics = cpc_metrics(rng, spent);
        (
            Some(new_id(rng)),
            Some(metrics),
            seeded_ad_categories(rng, business),
            Some(if rng.f64() < 0.7 {
                PacingMethod::Paced
            } else {
                PacingMethod::Unpaced
            }),
        )
    } else {
        (None, None, Vec::new(), None)
    };

    Program {
        program_id: new_id(rng),
        program_type,
        program_status: status,
        program_pause_status: pause,
        start_date,
        end_date,
        active_features: active,
        available_features: available,
        ad_categories,
        ad_campaign_id,
        program_metrics,
        future_budget_changes: Vec::new(),
        page_upgrade_info: (program_type == ProgramType::Logo).then(logo_upgrade_info),
        yelp_business_id: business.yelp_business_id.clone(),
        partner_business_id: business.partner_business_id.clone(),
        pacing_method,
        feature_settings,
    }
}

fn cpc_metrics(rng: &mut Rng, spent: bool) -> CpcMetrics {
    // Budgets are multiples of $5 from $25 to $10,000, skewed towards small accounts.
    let skew = rng.f64().powi(3);
    let budget = (5 + (1995.0 * skew) as i64) * 500;
    let is_autobid = rng.f64() < 0.7;
    let max_bid = (!is_autobid).then(|| rng.i64(50..=2000));
    // Spend is a whole number of clicks at one price per click, within the budget.
    let (billed_clicks, ad_cost, billed_impressions) = if spent {
        let cost_per_click = rng.i64(150..=1500);
        let clicks = ((budget / cost_per_click) as f64 * rng.f64()) as i64;
        let impressions = clicks * rng.i64(8..=60) + rng.i64(0..50);
        (clicks, clicks * cost_per_click, impressions)
    } else {
        (0, 0, 0)
    };
    CpcMetrics {
        budget,
        currency: "USD".to_owned(),
        is_autobid,
        max_bid,
        fee_period: if rng.f64() < 0.8 {
            FeePeriod::CalendarMonth
        } else {
            FeePeriod::RollingMonth
        },
        billed_impressions,
        billed_clicks,
        ad_cost,
    }
}

/// About 60% empty (the whole listing); otherwise 1-3 of the business's advertisable categories.
fn seeded_ad_categories(rng: &mut Rng, business: &Business) -> Vec<String> {
    if rng.f64() < 0.6 {
        return Vec::new();
    }
    let wanted = rng.usize(1..=3);
    business
        .categories
        .iter()
        .filter(|c| !UNSUPPORTED_CATEGORIES.contains(&c.as_str()))
        .take(wanted)
        .cloned()
        .collect()
}

/// The seeded world: businesses, then `program_count` programs spread over them.
pub(crate) fn world(
    seed: u64,
    business_count: usize,
    program_count: usize,
    today: NaiveDate,
) -> (Vec<Business>, Vec<Program>) {
    let mut rng = Rng::with_seed(seed);
    // Programs need an owner: an account asked for programs but no businesses gets one business.
    let business_count = if program_count > 0 {
        business_count.max(1)
    } else {
        business_count
    };
    let mut businesses = businesses(&mut rng, business_count);
    profiles(
        &mut Rng::with_seed(seed ^ PROFILE_SEED_OFFSET),
        &mut businesses,
    );
    let programs = (0..program_count)
        .map(|_| {
            let business = &businesses[rng.usize(..businesses.len())];
            let program_type = program_type(&mut rng);
            let lifecycle = lifecycle(&mut rng, program_type);
            program(&mut rng, business, program_type, lifecycle, today)
        })
        .collect();
    (businesses, programs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{StatusFilter, is_known_category};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 19).expect("valid date")
    }

    #[test]
    fn ids_are_22_url_safe_characters() {
        let mut rng = Rng::with_seed(1);
        for _ in 0..1000 {
            let id = new_id(&mut rng);
            assert_eq!(id.len(), 22);
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_world_and_another_seed_another() {
        let a = world(42, 50, 500, today());
        let b = world(42, 50, 500, today());
        let c = world(43, 50, 500, today());
        assert_eq!(a, b);
        assert_ne!(a.0, c.0);
        assert_ne!(a.1, c.1);
    }

    #[test]
    fn seeded_businesses_have_us_addresses_and_a_reason_when_inactive() {
        let (businesses, _) = world(42, 300, 0, today());
        for b in &businesses {
            let a = &b.address;
            assert!(
                a.address1.split_once(' ').is_some_and(|(number, street)| {
                    number.parse::<u32>().is_ok_and(|n| (1..=9999).contains(&n))
                        && !street.is_empty()
                }),
                "{a:?}"
            );
            assert!(CITIES.iter().any(|&(city, state, low, high)| {
                a.city == city
                    && a.state == state
                    && a.zip_code.len() == 5
                    && a.zip_code
                        .parse::<u32>()
                        .is_ok_and(|z| (low..=high).contains(&z))
            }));
            assert_eq!(a.country, "US");
            assert!(
                !b.held_back,
                "the seed gives every inactive business a reason"
            );
            assert!(!(b.is_closed && b.is_removed_from_search));
        }
        assert!(businesses.iter().any(|b| b.is_closed));
        assert!(businesses.iter().any(|b| b.is_removed_from_search));
        assert!(businesses.iter().any(|b| b.address.address2.is_some()));
        let migrated: Vec<&Business> = businesses
            .iter()
            .filter(|b| b.migrated_to.is_some())
            .collect();
        assert_eq!(migrated.len(), 1);
        assert!(migrated[0].is_active());
        let destination = migrated[0].migrated_to.as_deref();
        assert!(
            businesses
                .iter()
                .any(|b| Some(b.yelp_business_id.as_str()) == destination)
        );
        assert_ne!(destination, Some(migrated[0].yelp_business_id.as_str()));
        assert_eq!(
            world(42, 300, 0, today()).0,
            businesses,
            "the same seed, the same profiles"
        );
    }

    #[test]
    fn seeded_programs_follow_the_mix_of_types_and_states() {
        let (businesses, programs) = world(42, 300, 20_000, today());
        let share = |f: &dyn Fn(&Program) -> bool| {
            programs.iter().filter(|p| f(p)).count() as f64 / programs.len() as f64
        };
        let cpc = share(&|p| p.program_type == ProgramType::Cpc);
        assert!((0.42..0.48).contains(&cpc), "cpc share {cpc}");
        let paused = share(&|p| p.bucket(today()) == Some(StatusFilter::Paused));
        assert!((0.05..0.09).contains(&paused), "paused share {paused}");
        let past = share(&|p| p.bucket(today()) == Some(StatusFilter::Past));
        assert!((0.08..0.12).contains(&past), "past share {past}");
        let future = share(&|p| p.bucket(today()) == Some(StatusFilter::Future));
        assert!((0.06..0.10).contains(&future), "future share {future}");
        let current = share(&|p| p.bucket(today()) == Some(StatusFilter::Current));
        assert!((0.72..0.78).contains(&current), "current share {current}");

        for p in &programs {
            assert!(
                p.active_features
                    .iter()
                    .all(|f| p.available_features.contains(f))
            );
            match &p.program_metrics {
                Some(m) => {
                    assert_eq!(m.budget % 500, 0);
                    assert!((2500..=1_000_000).contains(&m.budget));
                    assert!(m.ad_cost <= m.budget);
                    assert_eq!(m.is_autobid, m.max_bid.is_none());
                    // Yelp would refuse any smaller bid, so an edit keeping it must be accepted.
                    assert!(
                        m.max_bid.is_none_or(|bid| bid >= 50),
                        "max_bid {:?}",
                        m.max_bid
                    );
                    assert!(p.ad_campaign_id.is_some());
                }
                None => {
                    assert_ne!(p.program_type, ProgramType::Cpc);
                    assert!(p.ad_categories.is_empty());
                }
            }
            assert!(p.ad_categories.iter().all(|c| is_known_category(c)));
            assert_eq!(
                p.page_upgrade_info.is_some(),
                p.program_type == ProgramType::Logo
            );
        }
        assert!(businesses.iter().any(|b| b.has_unsupported_category()));
        assert!(businesses.iter().any(|b| !b.is_active()));
        assert!(businesses.iter().any(|b| b.partner_business_id.is_none()));
    }
}
